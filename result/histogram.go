package result

import (
	"fmt"
	"sync"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram geometry: nanoseconds from 1 ns to one hour at 3 significant
// digits, so every latency keeps 0.1% precision. Every histogram of a result
// has it, so any two merge without loss.
const (
	HistogramLowest  = 1
	HistogramHighest = int64(3600e9)
	HistogramDigits  = 3
)

// NewHistogram returns an empty latency histogram in tailgate's geometry.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(HistogramLowest, HistogramHighest, HistogramDigits)
}

// NewPackedHistogram returns an empty latency histogram in tailgate's
// geometry, packed: it holds only its populated buckets.
func NewPackedHistogram() *hdrhistogram.PackedHistogram {
	return hdrhistogram.NewPacked(HistogramLowest, HistogramHighest, HistogramDigits)
}

// EncodeHistogram returns the standard base64 V2-compressed encoding, as the
// result file carries histograms.
func EncodeHistogram(h *hdrhistogram.Histogram) string {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		panic(fmt.Sprintf("result: encoding a histogram: %v", err))
	}
	return string(b)
}

// EncodedEmpty is the encoding of an empty histogram in tailgate's
// geometry, as an interval without successes carries it; encoded once.
var EncodedEmpty = sync.OnceValue(func() string { return EncodeHistogram(NewHistogram()) })

// EncodePacked encodes a packed histogram in the same encoding.
func EncodePacked(h *hdrhistogram.PackedHistogram) string {
	b, err := h.Encode()
	if err != nil {
		panic(fmt.Sprintf("result: encoding a histogram: %v", err))
	}
	return string(b)
}

// decodeOptional decodes a histogram field that older results lack: empty
// is an empty histogram.
func decodeOptional(enc, what string) (*hdrhistogram.Histogram, error) {
	return decodeField(enc, what, hdrhistogram.Decode, NewHistogram)
}

// decodeOptionalPacked is decodeOptional into a packed histogram.
func decodeOptionalPacked(enc, what string) (*hdrhistogram.PackedHistogram, error) {
	return decodeField(enc, what, hdrhistogram.DecodePacked, NewPackedHistogram)
}

// decodeField decodes enc with decode, or gives empty() for "".
func decodeField[H any](enc, what string, decode func([]byte) (H, error), empty func() H) (H, error) {
	if enc == "" {
		return empty(), nil
	}
	h, err := decode([]byte(enc))
	if err != nil {
		var none H
		return none, fmt.Errorf("%s: %w", what, err)
	}
	return h, nil
}
