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
// # Shifts in a history of runs
//
// ChangePoints finds the confirmed shifts of a series of runs by E-divisive
// means with a seeded permutation test, and TrendAlarms turns them into the
// trend tier's alarms: a shift above the bar, or creep from the first
// stretch to the last (changepoint.go, calibrated by
// TestChangePointSimulation).
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
// RegressionVerdict turns a comparison into "pass", "no-change", "fail",
// "inconclusive" or "insufficient" for an objective such as "p99 at most 10%
// above the baseline": it fails only when the ratio interval lies entirely
// beyond the tolerance, and passes only when it lies entirely within it
// (no-change when it also holds no change at all), so noise alone fails a
// candidate about (1-Confidence)/2 of the time when its true regression is
// exactly the tolerance, and passes it about as often. An interval that
// reaches across the tolerance is inconclusive; DetectableRegression says
// how large a regression the run could have shown.
//
// # Looking more than once
//
// A run that extends itself until its verdict is conclusive looks at its
// data several times, and every look is another chance for noise to cross
// a bar: judged at 90% at each of five looks, a run with nothing changed
// stops on a false verdict 23% of the time instead of 10%
// (TestBoundariesHoldTheErrorOverRepeatedLooks). LookConfidence corrects
// for that with a group-sequential design: the looks are at information
// fractions t_1 < ... < t_K = 1 of the longest run allowed (measured time
// over the longest measured time), the error alpha = 1-confidence is spent
// over them by the Lan-DeMets Pocock-type function alpha*ln(1+(e-1)t), and
// Boundaries finds, by recursive numerical integration, the boundary of
// each look so that the chance of stopping first there is that look's
// share. A look's interval at the matching level is a repeated confidence
// interval: all the intervals of a run cover the truth together with
// probability at least confidence, whichever look the run stops at and
// why, so a verdict read from any of them (fail when it lies above the
// limit, pass when below) errs at most as often as one look would.
//
// Why this design and not another:
//
//   - Pocock-type rather than O'Brien-Fleming-type spending. The first look
//     is at the planned duration, and most runs should end there: on a quiet
//     machine a run is conclusive as planned, and extending it costs CI time.
//     Pocock-type spending gives the first look a large share: with the
//     longest run three times the planned one and looks every half of the
//     planned duration, a two-sided 10% becomes a boundary of 2.00 at the
//     first look instead of 1.64 (O'Brien-Fleming-type: 2.85, almost never
//     conclusive), and 2.09 at the last (O'Brien-Fleming-type: 1.81).
//   - A spending function rather than fixed boundaries: the looks need not
//     be equally spaced or all taken, and the boundary of a look depends
//     only on the looks before it, so a result records its looks and is
//     judged again (tailgate check) at exactly the level it was judged at.
//   - Group-sequential boundaries rather than a confidence sequence (an
//     interval valid at every sample, such as a mixture martingale): tailgate
//     looks a handful of times, not after every sample, and a confidence
//     sequence pays for the looks it does not take with intervals about 1.5
//     times as wide at the planned length, which would turn quiet runs
//     inconclusive.
//
// The boundaries assume the statistics of the looks behave like a Brownian
// motion observed at the fractions, as any estimate from all data so far
// does asymptotically. Measured time is used as the information fraction.
// For an interleaved run both sides grow together and it is exact; against
// a stored baseline only the candidate grows, so the real fractions are
// larger (the first look holds more of the final information than its
// share of the time) and the looks more correlated than assumed, and both
// make the design conservative. TestLookConfidenceWithThePairedComparison
// checks it with the paired comparison itself: looking after 8, 12 and 16
// segment pairs at a true ratio exactly at a +10% limit, the corrected
// looks gave false failures in 2.5% and false passes in 3.8% of 80 runs
// (nominal 5% each), the uncorrected ones in 5% and 10%, and a +15%
// candidate failed in 41%, 62% and 78% of runs by the first, second and
// third look.
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
