// The Go contenders of scripts/compare-peers.sh. Built offline against Debian's packaged sources
// (golang-go, golang-github-aws-aws-sdk-go-v2-dev): the replace directives point at /usr/share/gocode, and the
// script builds with GOPROXY=off GOFLAGS=-mod=mod, so nothing is downloaded.
module kinesispusher.invalid/go-peers

go 1.19

require (
	github.com/aws/aws-sdk-go-v2 v1.17.1
	github.com/aws/smithy-go v1.13.4
)

require (
	github.com/google/go-cmp v0.5.8 // indirect
	github.com/jmespath/go-jmespath v0.4.0 // indirect
)

replace (
	github.com/aws/aws-sdk-go-v2 => /usr/share/gocode/src/github.com/aws/aws-sdk-go-v2
	github.com/aws/smithy-go => /usr/share/gocode/src/github.com/aws/smithy-go
	github.com/google/go-cmp => /usr/share/gocode/src/github.com/google/go-cmp
	github.com/jmespath/go-jmespath => /usr/share/gocode/src/github.com/jmespath/go-jmespath
)
