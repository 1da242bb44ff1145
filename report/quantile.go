package report

import (
	"math"
	"slices"
)

// exactLimit is how many values a quantile keeps exactly; past it they
// fold into log buckets 1% wide, so memory stays bounded on long traces.
const exactLimit = 1 << 16

const bucketBase = 1.01

// quantiles estimates quantiles of positive values in bounded memory.
type quantiles struct {
	exact   []float64
	buckets map[int]uint64
	n       uint64
}

func (q *quantiles) add(v float64) {
	q.n++
	if q.buckets == nil && len(q.exact) < exactLimit {
		q.exact = append(q.exact, v)
		return
	}
	if q.buckets == nil {
		q.buckets = map[int]uint64{}
		for _, x := range q.exact {
			q.buckets[bucket(x)]++
		}
		q.exact = nil
	}
	q.buckets[bucket(v)]++
}

func bucket(v float64) int {
	if v <= 1 {
		return 0
	}
	return int(math.Log(v) / math.Log(bucketBase))
}

// at is the p-quantile (0..1) by the nearest-rank method; 0 when empty.
func (q *quantiles) at(p float64) float64 {
	if q.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p * float64(q.n)))
	rank = max(1, min(rank, q.n))
	if q.buckets == nil {
		s := slices.Clone(q.exact)
		slices.Sort(s)
		return s[rank-1]
	}
	keys := make([]int, 0, len(q.buckets))
	for k := range q.buckets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var seen uint64
	for _, k := range keys {
		seen += q.buckets[k]
		if seen >= rank {
			return math.Pow(bucketBase, float64(k)+0.5)
		}
	}
	return 0
}

// merge adds o's values.
func (q *quantiles) merge(o *quantiles) {
	if o.buckets == nil {
		for _, v := range o.exact {
			q.add(v)
		}
		return
	}
	for _, v := range q.exact {
		o.buckets[bucket(v)]++ // o is discarded after a merge
	}
	if q.buckets != nil {
		for k, n := range q.buckets {
			o.buckets[k] += n
		}
	}
	q.exact, q.buckets, q.n = nil, o.buckets, q.n+o.n
}
