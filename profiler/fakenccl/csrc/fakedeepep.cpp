// A fake DeepEP extension: the buffer members with their real mangled names
// (fakedeepep.h), each adding x's element count to a counter so it is not
// folded away. Built twice: V1 as deep_ep_cpp*.so, V2 (-DDEEPEP_V2) as
// deep_ep/_C*.so.
#include "fakedeepep.h"

volatile int64_t fake_deepep_elements;

namespace deep_ep {

static void touch(const at::Tensor &x, int64_t rank) { fake_deepep_elements += x.impl->numel + (rank & 1); }

#ifndef DEEPEP_V2
std::tuple<T, OT, OT, OT, std::vector<int>, T, T, T, T, T, OE> Buffer::intranode_dispatch(
	const T &x, const OT &, const OT &, const OT &, const OT &, const T &, const OT &, int, const OT &, const OT &,
	int, int, const Config &, OE &, bool, bool)
{
	touch(x, rank);
	return {};
}

std::tuple<T, OT, OE> Buffer::intranode_combine(const T &x, const OT &, const OT &, const OT &, const T &, const T &,
						const T &, const T &, const Config &, OE &, bool, bool)
{
	touch(x, rank);
	return {};
}

std::tuple<T, OT, OT, OT, std::vector<int>, T, T, OT, T, OT, T, OT, OT, OT, OE> Buffer::internode_dispatch(
	const T &x, const OT &, const OT &, const OT &, const OT &, const OT &, const T &, const OT &, int, int,
	const OT &, const OT &, const OT &, const OT &, int, const Config &, OE &, bool, bool)
{
	touch(x, rank);
	return {};
}

std::tuple<T, OT, OE> Buffer::internode_combine(const T &x, const OT &, const OT &, const OT &, const T &, const T &,
						const T &, const T &, const T &, const T &, const T &,
						const Config &, OE &, bool, bool)
{
	touch(x, rank);
	return {};
}

std::tuple<T, OT, T, T, T, OE, std::optional<std::function<void()>>> Buffer::low_latency_dispatch(
	const T &x, const T &, const OT &, const OT &, int, int, bool, bool, bool, bool, bool)
{
	touch(x, rank);
	return {};
}

std::tuple<T, OE, std::optional<std::function<void()>>> Buffer::low_latency_combine(
	const T &x, const T &, const T &, const T &, const T &, const OT &, int, int, bool, bool, bool, bool,
	const OT &)
{
	touch(x, rank);
	return {};
}

T Buffer::get_next_low_latency_combine_buffer(int a, int b, int c) const
{
	fake_deepep_elements -= a + b + c;
	return {};
}
#else
namespace legacy {
std::tuple<T, OT, OT, OT, std::vector<int>, T, T, T, T, T, OE> Buffer::intranode_dispatch(
	const T &x, const OT &, const OT &, const OT &, const OT &, const T &, const OT &, int, const OT &, const OT &,
	int, int, const Config &, OE &, bool, bool)
{
	touch(x, rank);
	return {};
}

std::tuple<T, OT, OE> Buffer::intranode_combine(const T &x, const OT &, const OT &, const OT &, const T &, const T &,
						const T &, const T &, const Config &, const OE &, bool, bool)
{
	touch(x, rank);
	return {};
}

std::tuple<T, OT, T, T, T, OE, std::optional<std::function<void()>>> Buffer::low_latency_dispatch(
	const T &x, const T &, const OT &, const OT &, int, int, bool, bool, bool, bool, bool)
{
	touch(x, rank);
	return {};
}

std::tuple<T, OE, std::optional<std::function<void()>>> Buffer::low_latency_combine(
	const T &x, const T &, const T &, const T &, const T &, const OT &, int, int, bool, bool, bool, bool,
	const OT &)
{
	touch(x, rank);
	return {};
}
} // namespace legacy

namespace elastic {
std::tuple<T, OT, OT, OT, OT, int, int, std::vector<int>, T, T, T, T, T, OT, OT, OE> ElasticBuffer::dispatch(
	const T &x, const OT &, const T &, const OT &, const OT &, const std::optional<int> &,
	const std::optional<int> &, const std::optional<std::vector<int>> &, const OT &, const OT &, const OT &,
	const OT &, const OT &, const OT &, const OT &, const int &, const int &, const int &, const int &,
	const int &, const OE &, const OE &, const bool &, const bool &, const bool &, const bool &, const bool &,
	const bool &, const bool &) const
{
	touch(x, rank);
	return {};
}

std::tuple<T, OT, OE> ElasticBuffer::combine(const T &x, const OT &, const OT &, const OT &, const T &, const T &,
					     const T &, const OT &, const OT &, const int &, const int &, const int &,
					     const int &, const OE &, const OE &, const bool &, const bool &,
					     const bool &) const
{
	touch(x, rank);
	return {};
}
} // namespace elastic
#endif

} // namespace deep_ep
