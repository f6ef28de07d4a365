// Package stats holds the statistics tailgate judges latencies with: quantile
// confidence intervals read from HdrHistograms, the Mann-Whitney U test, and
// the comparison of a quantile between a baseline and a candidate run.
package stats
