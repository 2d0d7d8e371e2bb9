// Command seedrunner is a clean-room Go re-creation of the seed's runner (the Go module "Kinesis Pusher" that
// KinesisPusher started from), written from its README's description only: a bounded record channel, batches of
// up to 500 records sent with PutRecords, a fixed pace set by the number of open shards (1000 records/s each),
// a sync mode with one call at a time and an async mode with up to N concurrent calls, and failed records sent
// again. It is the baseline of scripts/compare-peers.sh's fault rows: a fixed pacer does not slow down when
// random faults come back.
//
//	seedrunner --endpoint URL --stream S --records N --size B [--async] [--max-concurrent-puts 10]
//
// It sends N unique records (peer.UniqueData, random partition keys) into the runner's channel and waits until
// the runner has delivered every one (or --timeout passes), then prints one JSON object.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"kinesispusher.invalid/go-peers/internal/peer"
)

// Record is what callers send into Runner.RecordChan.
type Record struct {
	Data         []byte
	PartitionKey string
	failedBefore bool
}

// Runner batches records from RecordChan into PutRecords calls at a fixed pace.
type Runner struct {
	RecordChan chan Record

	client        *kinesis.Client
	stream        string
	async         bool
	shardInterval time.Duration
	flushInterval time.Duration
	calls         chan struct{} // one token per PutRecords call allowed in flight

	openShards atomic.Int64
	retryMu    sync.Mutex
	retry      []Record

	success, failed, recovered, requests, requestErrors atomic.Int64
}

// New makes a runner whose channel holds bufferSize records and which keeps up to maxConcurrentPuts calls in
// flight in async mode.
func New(bufferSize, maxConcurrentPuts int) *Runner {
	return &Runner{
		RecordChan:    make(chan Record, bufferSize),
		calls:         make(chan struct{}, maxConcurrentPuts),
		shardInterval: 30 * time.Second,
		flushInterval: 100 * time.Millisecond,
	}
}

// WithAsync lets up to maxConcurrentPuts calls run at once instead of waiting for each answer.
func (r *Runner) WithAsync() *Runner { r.async = true; return r }

// Configure sets the client and the stream.
func (r *Runner) Configure(client *kinesis.Client, stream string) {
	r.client, r.stream = client, stream
}

// CheckShards counts the open shards (those without an ending sequence number); an error means the stream
// cannot be used.
func (r *Runner) CheckShards(ctx context.Context) error {
	open := 0
	input := &kinesis.ListShardsInput{StreamName: aws.String(r.stream)}
	for {
		page, err := r.client.ListShards(ctx, input)
		if err != nil {
			return err
		}
		for _, shard := range page.Shards {
			if shard.SequenceNumberRange == nil || shard.SequenceNumberRange.EndingSequenceNumber == nil {
				open++
			}
		}
		if page.NextToken == nil {
			break
		}
		input = &kinesis.ListShardsInput{NextToken: page.NextToken}
	}
	if open == 0 {
		return fmt.Errorf("stream %s has no open shard", r.stream)
	}
	r.openShards.Store(int64(open))
	return nil
}

// Run batches and sends until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	shardTicker := time.NewTicker(r.shardInterval)
	flushTicker := time.NewTicker(r.flushInterval)
	defer shardTicker.Stop()
	defer flushTicker.Stop()
	batch := make([]Record, 0, 500)
	// The pace: a bucket of open shards × 1000 records a second, holding at most one second of them.
	tokens, last := float64(r.openShards.Load()*1000), time.Now()
	send := func() {
		if len(batch) == 0 {
			return
		}
		for {
			rate := float64(r.openShards.Load() * 1000)
			now := time.Now()
			tokens += now.Sub(last).Seconds() * rate
			last = now
			if tokens > rate {
				tokens = rate
			}
			if tokens >= float64(len(batch)) {
				break
			}
			time.Sleep(time.Duration((float64(len(batch)) - tokens) / rate * float64(time.Second)))
		}
		tokens -= float64(len(batch))
		records := batch
		batch = make([]Record, 0, 500)
		if r.async {
			r.calls <- struct{}{}
			go func() { r.put(ctx, records); <-r.calls }()
		} else {
			r.put(ctx, records)
		}
	}
	for {
		// Records that failed go out first, in the next batch.
		r.retryMu.Lock()
		for len(r.retry) > 0 && len(batch) < 500 {
			batch = append(batch, r.retry[0])
			r.retry = r.retry[1:]
		}
		r.retryMu.Unlock()
		if len(batch) == 500 {
			send()
			continue
		}
		select {
		case <-ctx.Done():
			return
		case record := <-r.RecordChan:
			batch = append(batch, record)
			if len(batch) == 500 {
				send()
			}
		case <-flushTicker.C:
			send()
		case <-shardTicker.C:
			_ = r.CheckShards(ctx)
		}
	}
}

// put sends one batch; what fails goes back to the retry list.
func (r *Runner) put(ctx context.Context, records []Record) {
	entries := make([]types.PutRecordsRequestEntry, len(records))
	for i := range records {
		entries[i] = types.PutRecordsRequestEntry{Data: records[i].Data, PartitionKey: aws.String(records[i].PartitionKey)}
	}
	r.requests.Add(1)
	answer, err := r.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(r.stream), Records: entries})
	var again []Record
	if err != nil {
		r.requestErrors.Add(1)
		again = records
	} else {
		for i, entry := range answer.Records {
			if entry.ErrorCode == nil {
				r.success.Add(1)
				if records[i].failedBefore {
					r.recovered.Add(1)
				}
			} else {
				again = append(again, records[i])
			}
		}
	}
	if len(again) == 0 {
		return
	}
	r.failed.Add(int64(len(again)))
	for i := range again {
		again[i].failedBefore = true
	}
	r.retryMu.Lock()
	r.retry = append(r.retry, again...)
	r.retryMu.Unlock()
}

func main() {
	async := flag.Bool("async", false, "async mode: up to --max-concurrent-puts calls in flight")
	maxConcurrentPuts := flag.Int("max-concurrent-puts", 10, "calls in flight in async mode")
	bufferSize := flag.Int("buffer-size", 1000, "records the channel holds")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up waiting for delivery after this long")
	options := peer.ParseFlags("seedrunner")
	runner := New(*bufferSize, *maxConcurrentPuts)
	if *async {
		runner.WithAsync()
	}
	runner.Configure(peer.NewClient(options.Endpoint, *maxConcurrentPuts+2), options.Stream)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := runner.CheckShards(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "seedrunner:", err)
		os.Exit(1)
	}
	go runner.Run(ctx)
	random := rand.New(rand.NewSource(1))
	var clock peer.Clock
	clock.Start()
	deadline := time.Now().Add(*timeout)
	for index := 0; index < options.Records; index++ {
		runner.RecordChan <- Record{Data: peer.UniqueData(index, options.Size), PartitionKey: strconv.FormatUint(random.Uint64(), 36)}
	}
	for runner.success.Load() < int64(options.Records) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	report := map[string]any{
		"claimed_delivered": runner.success.Load(),
		"failed_attempts":   runner.failed.Load(),
		"recovered":         runner.recovered.Load(),
		"requests":          runner.requests.Load(),
		"request_errors":    runner.requestErrors.Load(),
		"complete":          runner.success.Load() >= int64(options.Records),
	}
	clock.Stop(report)
	peer.Print(report)
}
