// DeepEP's buffer classes as its Python extension exports them, with the
// real parameter types so the members carry the real mangled names:
// V1 (1.2.1, csrc/deep_ep.hpp, deep_ep_cpp*.so) deep_ep::Buffer; V2
// (csrc/legacy/buffer.hpp and csrc/elastic/buffer.hpp, deep_ep/_C*.so)
// deep_ep::legacy::Buffer and deep_ep::elastic::ElasticBuffer. Only the
// entry points linkprof probes (and one it must not) are declared; return
// types are the real tuples, which x86-64 returns through a hidden pointer.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <vector>

#include "faketensor.h"

namespace deep_ep {

struct EventHandle {
	std::shared_ptr<int> event;
};

struct Config {
	int num_sms;
};

using T = at::Tensor;
using OT = std::optional<at::Tensor>;
using OE = std::optional<EventHandle>;

struct Buffer {
	int64_t rank;

	std::tuple<T, OT, OT, OT, std::vector<int>, T, T, T, T, T, OE> intranode_dispatch(
		const T &x, const OT &x_scales, const OT &topk_idx, const OT &topk_weights, const OT &num_tokens_per_rank,
		const T &is_token_in_rank, const OT &num_tokens_per_expert, int cached_num_recv_tokens,
		const OT &cached_rank_prefix_matrix, const OT &cached_channel_prefix_matrix, int expert_alignment,
		int num_worst_tokens, const Config &config, OE &previous_event, bool async, bool allocate_on_comm_stream);

	std::tuple<T, OT, OE> intranode_combine(const T &x, const OT &topk_weights, const OT &bias_0, const OT &bias_1,
						const T &src_idx, const T &rank_prefix_matrix,
						const T &channel_prefix_matrix, const T &send_head, const Config &config,
						OE &previous_event, bool async, bool allocate_on_comm_stream);

	std::tuple<T, OT, OT, OT, std::vector<int>, T, T, OT, T, OT, T, OT, OT, OT, OE> internode_dispatch(
		const T &x, const OT &x_scales, const OT &topk_idx, const OT &topk_weights, const OT &num_tokens_per_rank,
		const OT &num_tokens_per_rdma_rank, const T &is_token_in_rank, const OT &num_tokens_per_expert,
		int cached_num_recv_tokens, int cached_num_rdma_recv_tokens, const OT &cached_rdma_channel_prefix_matrix,
		const OT &cached_recv_rdma_rank_prefix_sum, const OT &cached_gbl_channel_prefix_matrix,
		const OT &cached_recv_gbl_rank_prefix_sum, int expert_alignment, const Config &config,
		OE &previous_event, bool async, bool allocate_on_comm_stream);

	std::tuple<T, OT, OE> internode_combine(const T &x, const OT &topk_weights, const OT &bias_0, const OT &bias_1,
						const T &src_meta, const T &is_combined_token_in_rank,
						const T &rdma_channel_prefix_matrix, const T &rdma_rank_prefix_sum,
						const T &gbl_channel_prefix_matrix, const T &combined_rdma_head,
						const T &combined_nvl_head, const Config &config, OE &previous_event,
						bool async, bool allocate_on_comm_stream);

	std::tuple<T, OT, T, T, T, OE, std::optional<std::function<void()>>> low_latency_dispatch(
		const T &x, const T &topk_idx, const OT &cumulative_local_expert_recv_stats,
		const OT &dispatch_wait_recv_cost_stats, int num_max_dispatch_tokens_per_rank, int num_experts,
		bool use_fp8, bool round_scale, bool use_ue8m0, bool async, bool return_recv_hook);

	std::tuple<T, OE, std::optional<std::function<void()>>> low_latency_combine(
		const T &x, const T &topk_idx, const T &topk_weights, const T &src_info, const T &layout_range,
		const OT &combine_wait_recv_cost_stats, int num_max_dispatch_tokens_per_rank, int num_experts,
		bool use_logfmt, bool zero_copy, bool async, bool return_recv_hook, const OT &out = std::nullopt);

	// Not a collective: the same prefix, never probed.
	T get_next_low_latency_combine_buffer(int num_max_dispatch_tokens_per_rank, int hidden, int num_experts) const;
};

namespace legacy {

struct Config {
	int num_sms;
};

struct Buffer {
	int64_t rank;

	std::tuple<T, OT, OT, OT, std::vector<int>, T, T, T, T, T, OE> intranode_dispatch(
		const T &x, const OT &x_scales, const OT &topk_idx, const OT &topk_weights, const OT &num_tokens_per_rank,
		const T &is_token_in_rank, const OT &num_tokens_per_expert, int cached_num_recv_tokens,
		const OT &cached_rank_prefix_matrix, const OT &cached_channel_prefix_matrix, int expert_alignment,
		int num_worst_tokens, const Config &config, OE &previous_event, bool async, bool allocate_on_comm_stream);

	std::tuple<T, OT, OE> intranode_combine(const T &x, const OT &topk_weights, const OT &bias_0, const OT &bias_1,
						const T &src_idx, const T &rank_prefix_matrix,
						const T &channel_prefix_matrix, const T &send_head, const Config &config,
						const OE &previous_event, bool async, bool allocate_on_comm_stream);

	std::tuple<T, OT, T, T, T, OE, std::optional<std::function<void()>>> low_latency_dispatch(
		const T &x, const T &topk_idx, const OT &cumulative_local_expert_recv_stats,
		const OT &dispatch_wait_recv_cost_stats, int num_max_dispatch_tokens_per_rank, int num_experts,
		bool use_fp8, bool round_scale, bool use_ue8m0, bool async, bool return_recv_hook);

	std::tuple<T, OE, std::optional<std::function<void()>>> low_latency_combine(
		const T &x, const T &topk_idx, const T &topk_weights, const T &src_info, const T &layout_range,
		const OT &combine_wait_recv_cost_stats, int num_max_dispatch_tokens_per_rank, int num_experts,
		bool use_logfmt, bool zero_copy, bool async, bool return_recv_hook, const OT &out = std::nullopt);
};

} // namespace legacy

namespace elastic {

struct ElasticBuffer {
	int64_t rank;

	std::tuple<T, OT, OT, OT, OT, int, int, std::vector<int>, T, T, T, T, T, OT, OT, OE> dispatch(
		const T &x, const OT &sf, const T &topk_idx, const OT &topk_weights,
		const OT &cumulative_local_expert_recv_stats, const std::optional<int> &cached_num_recv_tokens,
		const std::optional<int> &cached_num_expanded_tokens,
		const std::optional<std::vector<int>> &cached_num_recv_tokens_per_expert_list,
		const OT &cached_psum_num_recv_tokens_per_scaleup_rank, const OT &cached_psum_num_recv_tokens_per_expert,
		const OT &cached_num_unaligned_recv_tokens_per_expert, const OT &cached_dst_buffer_slot_idx,
		const OT &cached_token_metadata_at_forward, const OT &cached_recv_src_metadata,
		const OT &cached_channel_linked_list, const int &num_max_tokens_per_rank, const int &num_experts,
		const int &expert_alignment, const int &num_sms, const int &num_qps, const OE &previous_event,
		const OE &previous_event_before_epilogue, const bool &async_with_compute_stream,
		const bool &allocate_on_comm_stream, const bool &do_handle_copy, const bool &do_cpu_sync,
		const bool &do_expand, const bool &do_zero_padding, const bool &use_tma_aligned_col_major_sf) const;

	std::tuple<T, OT, OE> combine(const T &x, const OT &topk_weights, const OT &bias_0, const OT &bias_1,
				      const T &src_metadata, const T &combined_topk_idx,
				      const T &psum_num_recv_tokens_per_scaleup_rank,
				      const OT &token_metadata_at_forward, const OT &channel_linked_list,
				      const int &num_experts, const int &num_max_tokens_per_rank, const int &num_sms,
				      const int &num_qps, const OE &previous_event, const OE &previous_event_before_epilogue,
				      const bool &async_with_compute_stream, const bool &allocate_on_comm_stream,
				      const bool &use_expanded_layout) const;
};

} // namespace elastic

} // namespace deep_ep
