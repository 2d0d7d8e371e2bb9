// Package peer holds what the Go contenders of scripts/compare-peers.sh share: the Kinesis client pointed at a
// local endpoint, the clock they report CPU and wall time with, and the JSON line they print.
package peer

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// Region and placeholder credentials: KinesisLocal checks no signature, but the SDK signs every request.
const (
	Region    = "us-east-1"
	AccessKey = "AKIDBENCH"
	SecretKey = "bench"
)

// NewClient is an aws-sdk-go-v2 Kinesis client for endpoint with the SDK's default retryer, and an HTTP transport
// that keeps up to maxConnections idle connections to it (the default keeps 2, which would make every concurrent
// call beyond the second open a new connection).
func NewClient(endpoint string, maxConnections int) *kinesis.Client {
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(transport *http.Transport) {
		transport.MaxIdleConnsPerHost = maxConnections
	})
	return kinesis.New(kinesis.Options{
		Region:           Region,
		Credentials:      aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, "")),
		EndpointResolver: kinesis.EndpointResolverFromURL(endpoint),
		HTTPClient:       httpClient,
	})
}

// Version names the SDK and the Go toolchain the binary was built with.
func Version() string {
	return "aws-sdk-go-v2 " + aws.SDKVersion + ", " + runtime.Version()
}

// CPUSeconds is this process's user plus system CPU time, every thread.
func CPUSeconds() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return float64(usage.Utime.Nano()+usage.Stime.Nano()) / 1e9
}

// PeakRSSMiB is the resident-set high-water mark (VmHWM), or 0 when /proc cannot tell.
func PeakRSSMiB() float64 {
	file, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer file.Close()
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		if fields := strings.Fields(scanner.Text()); len(fields) >= 2 && fields[0] == "VmHWM:" {
			kib, _ := strconv.ParseFloat(fields[1], 64)
			return kib / 1024
		}
	}
	return 0
}

// Clock measures CPU and wall time from Start.
type Clock struct {
	cpu  float64
	wall time.Time
}

// Start begins the measurement.
func (c *Clock) Start() { c.cpu, c.wall = CPUSeconds(), time.Now() }

// Stop adds cpu_s, elapsed_s and peak_rss_mib to report.
func (c *Clock) Stop(report map[string]any) {
	report["cpu_s"] = CPUSeconds() - c.cpu
	report["elapsed_s"] = time.Since(c.wall).Seconds()
	report["peak_rss_mib"] = PeakRSSMiB()
	report["version"] = Version()
}

// Print writes report as one JSON object on standard output.
func Print(report map[string]any) {
	if err := json.NewEncoder(os.Stdout).Encode(report); err != nil {
		os.Exit(1)
	}
}

// UniqueData is record index's payload of size bytes: "rec-%09d-" padded with 'a', so a read-back can tell every
// record apart (and count the lost and the duplicated). It matches the lines of the script's input files.
func UniqueData(index, size int) []byte {
	data := make([]byte, 0, size)
	data = append(data, "rec-"...)
	number := strconv.Itoa(index)
	for pad := len(number); pad < 9; pad++ {
		data = append(data, '0')
	}
	data = append(data, number...)
	data = append(data, '-')
	for len(data) < size {
		data = append(data, 'a')
	}
	return data[:size]
}

// Options are the flags every Go contender takes, as scripts/peer_producers.py's contenders do.
type Options struct {
	Endpoint string
	Stream   string
	Records  int
	Size     int
}

// ParseFlags registers the shared flags (and --version) beside the caller's own, parses the command line, and
// handles --version and a missing --endpoint for the command called name.
func ParseFlags(name string) Options {
	var options Options
	flag.StringVar(&options.Endpoint, "endpoint", "", "Kinesis endpoint URL")
	flag.StringVar(&options.Stream, "stream", "bench", "stream name")
	flag.IntVar(&options.Records, "records", 20000, "records to push")
	flag.IntVar(&options.Size, "size", 100, "bytes of data per record")
	version := flag.Bool("version", false, "print the SDK and Go versions and exit")
	flag.Parse()
	if *version {
		fmt.Println(Version())
		os.Exit(0)
	}
	if options.Endpoint == "" {
		fmt.Fprintln(os.Stderr, name+": --endpoint is required")
		os.Exit(2)
	}
	return options
}
