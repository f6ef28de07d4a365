// Package stats holds the statistics tailgate judges latencies with. It only
// reads HdrHistograms and returns values: a comparison carries its estimate,
// interval, p-value, sample sizes and warnings, and the caller decides.
//
// # A quantile of one run
//
// QuantileCI bounds a quantile between two order statistics of the recorded
// samples. The number of samples below the true q-quantile is binomial(n, q)
// whatever the distribution, so the ranks follow from the binomial (exact
// for small n, normal with continuity correction for large n) and the
// interval holds at its stated confidence for any continuous distribution of
// independent samples. Reading the lower bound as its bucket's lowest value
// and the upper as its highest keeps it conservative at the histogram's
// precision. When there are too few samples it says so instead of returning
// an interval: a 95% interval for p99 needs 368 samples, for p99.9 3,688.
//
// # Did it move?
//
// MannWhitney is the two-sided Mann-Whitney U test: exact without ties up to
// 50 values, otherwise the normal approximation with the tie correction. It
// assumes independent values and nothing about their distribution.
//
// # A quantile of a candidate against a baseline
//
// CompareQuantile takes each run as its per-interval histograms (about one
// per second). When each side has at least MinIntervals intervals holding
// enough samples to estimate the quantile on their own, it tests the
// per-interval quantiles with the U test and bounds the ratio of the two
// whole-run quantiles with a bootstrap that resamples whole intervals
// (MethodIntervals). Resampling intervals rather than samples keeps what
// happens together within a second, a stall or a collection pause, together
// in every resample. With few clusters a percentile interval is too narrow,
// so the interval is the expanded percentile interval: in the four p99 rows
// simulated both ways below, a nominal 90% plain interval covered the true
// ratio 87% of the time on average, the expanded one 90.6%; over all p50 and
// p99 rows the expanded interval covered 90.1% (83.5% to 96% per row of 200).
// The U test called 10.2% of A/A pairs different at the 10% level. Otherwise, as for p99.9 at a few hundred operations per second,
// it compares the pooled samples (MethodPooled): Fisher's exact test on how
// many samples of each side lie beyond the pooled quantile (conservative: it
// called 2% to 4.5% of A/A pairs different at the 10% level), and the
// order-statistic intervals of both sides combined into a conservative ratio
// interval.
//
// The bootstrap takes the ratio of the whole-run quantiles, not of the
// medians of per-interval quantiles: the whole-run quantile uses every
// sample at once and is the estimate reported, while the per-interval
// quantile of 300 samples is a noisy, biased estimate of p99. In the
// simulations both were calibrated (the medians' 90% interval covered 91.8%
// of the time on average, the merged one 90.6%), but the medians lost power:
// they caught 92.5% instead of 94.5% of +30% shifts of p99 at 300 ops/s for
// 10 s, and 85.5% instead of 94% with a wider distribution at 1000 ops/s.
//
// # The two sides of an interleaved run
//
// ComparePairedQuantile takes the segments of an interleaved run (A B B A
// ...), where segment k of the candidate ran back to back with segment k of
// the baseline. When at least MinPairs pairs can each estimate the quantile
// on both sides, it compares them pair by pair (MethodPaired): the
// sign-flip permutation test of the per-pair log ratios gives the p-value,
// and a bootstrap that resamples whole pairs, weighing both sides' segments
// alike, gives the ratio interval (expanded for k pairs, with k-1 degrees
// of freedom). A machine that slows down for a second slows both segments
// of a pair, so the pairing cancels what the unpaired methods must count as
// variance. Simulated (TestComparePairedSimulated: 8 pairs of 940 samples,
// log-normal with a 2 ms median, the machine's speed wandering by 15% from
// pair to pair and 3% from segment to segment), A/A pairs failed 0% of the
// time at p50 and p99 with the interval covering 92-94%, and +30% was
// caught 98-100% of the time, where the unpaired comparison of the same
// segments caught 61-80%.
//
// The methods assume what a steady soak gives: the intervals of a run are
// exchangeable (no trend left after the warmup), and the two runs are
// independent. A drift within a run is not noise the interval accounts for.
//
// # Verdicts
//
// RegressionVerdict turns a comparison into "pass", "fail", "~" or
// "insufficient" for an objective such as "p99 at most 10% above the
// baseline": it fails only when the ratio interval lies entirely beyond the
// tolerance, so noise alone fails a candidate about (1-Confidence)/2 of the
// time when its true regression is exactly the tolerance, and almost never
// when nothing changed.
//
// # Defaults and their calibration
//
// DefaultConfidence is 0.90 (two-sided), so a failure is a regression
// beyond the tolerance at 95% one-sided confidence; the bootstrap draws
// BootstrapResamples = 2000 resamples with a fixed seed, and MinIntervals is
// 8. TestCalibration (run with -calibrate) simulates log-normal service
// times with a 2 ms median recorded into per-second histograms, 200 A/A and
// 200 A/B (+30%) pairs per row, judged against a +10% tolerance:
//
//	quantile  sigma  ops/s x seconds        method     A/A failed  +30% failed
//	p50       0.5, 1 300x10 .. 2000x15      intervals  0%          100%
//	p99       0.5    300x10                 intervals  0%          94.5%
//	p99       0.5    300x15                 intervals  0%          99.5%
//	p99       0.5    500x10 .. 2000x15      intervals  0%          100%
//	p99       1      300x10, 300x15         intervals  0%          49.5%, 64%
//	p99       1      500x10, 500x15         intervals  0%          71%, 85%
//	p99       1      1000x10, 1000x15       intervals  0%          94%, 98.5%
//	p99       1      2000x10, 2000x15       intervals  0%          99%, 100%
//	p99.9     0.5    300x10                 too few samples: "insufficient"
//	p99.9     0.5    300x15 .. 500x15       pooled     0%          2.5% .. 24%
//	p99.9     0.5    1000x10 .. 2000x15     intervals  0%          73.5% .. 100%
//
// A sigma of 0.5 puts p99 at 3.2 times the median, a sigma of 1 at 10 times.
// At 95% confidence the p99 row at 300x10 drops to 91%; at 90% the
// interval's lower bound leaves the A/A rows at 0%, so the lower level buys
// power at no cost in false alarms. A wide distribution needs more samples
// for p99: about 1,000 ops/s for 10 to 15 s.
package stats
