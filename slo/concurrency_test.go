package slo

import "testing"

func TestConcurrencyIsAnotherNameForStreams(t *testing.T) {
	p, _, err := parseTestdata(t, "testdata/concurrency.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if w := p.Component("web").Workload; w.Streams != 16 {
		t.Errorf("concurrency: 16 decoded as streams %d", w.Streams)
	}
}
