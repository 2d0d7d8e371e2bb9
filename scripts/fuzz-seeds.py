#!/usr/bin/env python3
"""Writes the committed seed corpora of the fuzz targets to Fuzz/Corpus/<target>/ (run from the repository root).

Each seed is a real example of what the target reads, with the target's framing bytes in front (see the doc comment
of each Fuzz/<target>/<target>.swift). The aggregates come from AWS's aws-kinesis-agg (pip install aws-kinesis-agg).
"""
import json
import os
import struct

from aws_kinesis_agg.aggregator import RecordAggregator

CORPUS = "Fuzz/Corpus"


def write(target, name, data):
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    with open(os.path.join(CORPUS, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def aggregate(records):
    aggregator = RecordAggregator()
    for key, data, hash_key in records:
        assert aggregator.add_user_record(key, data, hash_key) is None
    return aggregator.clear_and_get().get_contents()[2]


# KinesisAggregation: mode byte 0 (a record as received), 1 (protobuf body, MD5 added by the target), 2 (records).
kpl = aggregate([("a", b"1", None), ("b", b"22", None), ("a", b"333", "170141183460469231731687303715884105728")])
write("FuzzAggregation", "kpl-aggregate", b"\x00" + kpl)
write("FuzzAggregation", "kpl-body", b"\x01" + kpl[4:-16])
write("FuzzAggregation", "plain-record", b"\x00" + b"just a record, not an aggregate")
write("FuzzAggregation", "records", b"\x02" + b"\x00\x03key\x05hello" + b"\x01\x01k\x0212\x00" + b"\x00\x03key\x01x")

# PutRecords answers as Kinesis sends them.
seq = "49543463076548007577105092703039560359975228518395019266"
write("FuzzPutRecordsResponse", "success", json.dumps({
    "FailedRecordCount": 0,
    "Records": [{"SequenceNumber": seq, "ShardId": "shardId-000000000000"},
                {"SequenceNumber": seq[:-1] + "7", "ShardId": "shardId-000000000001"}],
}))
write("FuzzPutRecordsResponse", "partial-failure-kms", json.dumps({
    "FailedRecordCount": 2,
    "Records": [{"SequenceNumber": seq, "ShardId": "shardId-000000000000"},
                {"ErrorCode": "ProvisionedThroughputExceededException",
                 "ErrorMessage": "Rate exceeded for shard shardId-000000000001 in stream exampleStreamName under account 111111111111."},
                {"ErrorCode": "InternalFailure", "ErrorMessage": "Internal service failure."}],
    "EncryptionType": "KMS",
}))
write("FuzzPutRecordsResponse", "escapes", '{"Records":[{"SequenceNumber":"1","ShardId":"shard\\u0049d-0\\/1"}],"FailedRecordCount":0.0}')

# Error answers: two bytes of status (100 + value % 500), header lines, NUL, body.
def error_answer(status, headers, body):
    return struct.pack(">H", status - 100) + "\n".join(f"{k}: {v}" for k, v in headers).encode() + b"\x00" + body.encode()

request_id = ("x-amzn-RequestId", "c9a5b1f4-6d2e-11ee-b962-0242ac120002")
write("FuzzErrorResponse", "not-found", error_answer(400, [request_id, ("Content-Type", "application/x-amz-json-1.1")], json.dumps(
    {"__type": "ResourceNotFoundException", "message": "Stream orders under account 123456789012 not found."})))
write("FuzzErrorResponse", "namespaced-throttle", error_answer(400, [request_id], json.dumps(
    {"__type": "com.amazonaws.kinesis.v20131202#ProvisionedThroughputExceededException", "message": "Rate exceeded for shard shardId-000000000001"})))
write("FuzzErrorResponse", "signature-expired", error_answer(400, [request_id, ("Date", "Sun, 06 Nov 1994 08:49:37 GMT")], json.dumps(
    {"__type": "InvalidSignatureException", "Message": "Signature expired: 20240101T000000Z is now earlier than 20240101T000500Z (20240101T001000Z - 5 min.)"})))
write("FuzzErrorResponse", "header-type", error_answer(400, [("X-Amzn-ErrorType", "AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/")], ""))
write("FuzzErrorResponse", "xml", error_answer(403, [("x-amz-request-id", "EXAMPLE")],
    "<ErrorResponse><Error><Type>Sender</Type><Code>UnrecognizedClientException</Code>"
    "<Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>"))
write("FuzzErrorResponse", "gateway-html", error_answer(503, [], "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>\n"))
write("FuzzErrorResponse", "empty-500", error_answer(500, [], ""))

# Shared config file, NUL, credentials file.
config = """# ~/.aws/config
[default]
region = us-east-1
output = json ; inline comment

[profile dev]
role_arn = arn:aws:iam::123456789012:role/dev
source_profile = default
region=eu-west-1
s3 =
  max_concurrent_requests = 20
  addressing_style = path
cli_pager=

[profile sso-user]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = ReadOnly

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1

[services local]
kinesis =
  endpoint_url = http://127.0.0.1:4567

[profile web]
web_identity_token_file = /var/run/secrets/token
role_arn = arn:aws:iam::123456789012:role/web
credential_process = /usr/local/bin/creds --profile web # comment
"""
credentials = """[default]
aws_access_key_id = AKIDEXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
aws_session_token = IQoJb3JpZ2luX2VjEXAMPLE==
\r
[dev]\r
aws_access_key_id=AKIDDEV\r
"""
write("FuzzSharedConfig", "config-and-credentials", config + "\x00" + credentials)
write("FuzzSharedConfig", "config-only", config)

# push input: chunking seed byte, then the text.
write("FuzzLineInput", "ndjson", "\x07" + '{"id":"order-1","amount":12.5}\n{"id":42,"tags":["a","b"]}\r\n{"id":null}\n\n'
      '{"other":{"id":"nested"}}\n[1,2]\n{"id":"\\u00e9t\\u00e9 \\ud83d\\ude00"}')
write("FuzzLineInput", "lines", "\x81" + "one\r\ntwo\n\nthree\r\r\nlast line\r")

# KinesisLocal request bodies: a flags byte (1: PutRecord), then the body.
put_records = {"StreamName": "events", "Records": [
    {"Data": "aGVsbG8=", "PartitionKey": "k1"},
    {"Data": "", "PartitionKey": "k2", "ExplicitHashKey": "170141183460469231731687303715884105728"},
    {"Data": "AAECAw==", "PartitionKey": "\u00fc-\u043a\u043b\u044e\u0447"}]}
write("FuzzLocalRequest", "put-records", b"\x00" + json.dumps(put_records, separators=(",", ":")).encode())
write("FuzzLocalRequest", "put-records-boto3", b"\x00" + json.dumps(
    {"Records": [{"Data": "eyJhIjoxfQ==", "PartitionKey": "pk"}], "StreamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/events"}).encode())
write("FuzzLocalRequest", "put-record", b"\x01" + json.dumps(
    {"StreamName": "events", "Data": "aGk=", "PartitionKey": "p\\\"k\n", "SequenceNumberForOrdering": "1", "ExplicitHashKey": None}).encode())
write("FuzzLocalRequest", "escaped-data", b"\x00" + b'{"StreamName":"e","Records":[{"Data":"aGVs\\u0062G8\\/","PartitionKey":"\\u00e9"}],"Other":[1,-2.5e3,true,null,{}]}')
write("FuzzLocalRequest", "create-stream", b"\x00" + json.dumps(
    {"StreamName": "events", "ShardCount": 4, "StreamModeDetails": {"StreamMode": "PROVISIONED"}}).encode())
write("FuzzLocalRequest", "list-shards", b"\x00" + json.dumps(
    {"StreamName": "events", "MaxResults": 100, "ShardFilter": {"Type": "AT_TIMESTAMP", "Timestamp": 1700000000.5}}).encode())

# KinesisLocal backend: requests in sequence, each a target byte (0-10 the Kinesis operations in the order of
# Fuzz/FuzzLocalBackend's `operations`, 11-15 its admin routes), a little-endian length, the body (the query for 15).
def backend_requests(*requests):
    out = b""
    for target, body in requests:
        body = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        out += struct.pack("<BH", target, len(body)) + body
    return out


write("FuzzLocalBackend", "put-then-read", backend_requests(
    (0, put_records | {"StreamName": "s"}),
    (7, {"StreamName": "s"}),
    (9, {"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"}),
    (10, {"ShardIterator": "AAAAAAAAAAE=", "Limit": 10}),
    (15, b"stream=s&deaggregate=true")))
write("FuzzLocalBackend", "reshard-and-list", backend_requests(
    (8, {"StreamName": "s", "TargetShardCount": 4, "ScalingType": "UNIFORM_SCALING"}),
    (7, {"NextToken": "czox", "MaxResults": 1}),
    (13, {"stream": "s", "shardCount": 3}),
    (5, {"StreamName": "s", "Limit": 2, "ExclusiveStartShardId": "shardId-000000000001"}),
    (14, b"")))
write("FuzzLocalBackend", "faults-and-lifecycle", backend_requests(
    (12, {"recordThrottleRate": 0.5, "requestInternalErrorRate": 0.2, "dropConnectionRate": 0.1,
          "expiredTokenAfterRequests": 3, "poisonRecords": ["k1"], "seed": 7}),
    (1, {"StreamName": "small", "Data": "aGk=", "PartitionKey": "k1"}),
    (11, b""),
    (3, {"StreamName": "small", "EnforceConsumerDeletion": True}),
    (2, {"StreamName": "small", "ShardCount": 2}),
    (6, {"StreamName": "small"}),
    (4, {"Limit": 1, "ExclusiveStartStreamName": "a"})))
write("FuzzLocalBackend", "admin-queries", backend_requests((15, b"="), (15, b""), (15, b"stream=&stream=s"), (15, b"%zz=%")))
