// Command putrecords is the aws-sdk-go-v2 contender of scripts/compare-peers.sh: the Go form of the boto3 row, a
// loop of PutRecords calls of 500 records each, resending only the entries that failed, one call at a time.
//
//	putrecords --endpoint URL --stream S --records N --size B
//
// It pushes the same records as the boto3 loop (size bytes of 'a', 1000 partition keys round-robin) and prints
// one JSON object: what it says it delivered, and its CPU and wall time from the first record until the last is
// acknowledged (client set-up and process start left out, as for every contender).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"kinesispusher.invalid/go-peers/internal/peer"
)

func main() {
	options := peer.ParseFlags("putrecords")
	client := peer.NewClient(options.Endpoint, 2)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("partition-key-%d", i)
	}
	payload := make([]byte, options.Size)
	for i := range payload {
		payload[i] = 'a'
	}
	ctx := context.Background()
	delivered := 0
	batch := make([]types.PutRecordsRequestEntry, 0, 500)
	var clock peer.Clock
	clock.Start()
	for index := 0; index < options.Records; index++ {
		batch = append(batch, types.PutRecordsRequestEntry{Data: payload, PartitionKey: aws.String(keys[index%len(keys)])})
		if len(batch) < 500 && index < options.Records-1 {
			continue
		}
		for len(batch) > 0 {
			answer, err := client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(options.Stream), Records: batch})
			if err != nil {
				fmt.Fprintln(os.Stderr, "putrecords:", err)
				os.Exit(1)
			}
			failed := batch[:0:0]
			for position, entry := range answer.Records {
				if entry.ErrorCode == nil {
					delivered++
				} else {
					failed = append(failed, batch[position])
				}
			}
			batch = append(batch[:0], failed...)
		}
	}
	report := map[string]any{"claimed_delivered": delivered}
	clock.Stop(report)
	peer.Print(report)
}
