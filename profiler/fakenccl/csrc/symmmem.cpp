// A fake libtorch_cuda.so: torch's symmetric memory operators with their
// real demangled names, functions of an anonymous namespace (local symbols,
// in .symtab only), registered by function pointer as m.impl does and
// called the way torch's are: the one-shot entries through
// one_shot_all_reduce_out_impl, the two-shot ones through
// two_shot_all_reduce_impl, multimem_one_shot_all_reduce through
// multimem_one_shot_all_reduce_out. Each "kernel" adds what it reduces to
// fake_symm_elements. A function of the same name in a named namespace is
// no operator.
#include <cstring>
#include <optional>
#include <stdexcept>
#include "faketorch.h"

volatile int64_t fake_symm_elements;

namespace {

at::TensorImpl outputs[8];
int next_output;

at::Tensor empty_like(const at::Tensor &t)
{
	at::TensorImpl *impl = &outputs[next_output++ % 8];
	impl->numel = t.impl_->numel;
	impl->dtype = t.impl_->dtype;
	return at::Tensor(impl);
}

// An unlikely throw: the compiler moves it to a .cold clone, as in torch.
void check(const at::Tensor &t, const std::string &reduce_op, const std::string &group)
{
	if (__builtin_expect(t.impl_ == nullptr || group.empty() || reduce_op != "sum", 0))
		throw std::invalid_argument("symm_mem: input must be allocated with empty_strided_p2p(); only sum");
}

void kernel(const at::Tensor &t) { fake_symm_elements += t.numel(); }

__attribute__((noinline)) at::Tensor one_shot_all_reduce_out_impl(const at::Tensor &input,
	const std::optional<at::Tensor> &local_input, std::string reduce_op, std::string group_name, at::Tensor out)
{
	check(input, reduce_op, group_name);
	if (local_input && local_input->numel() > input.numel())
		throw std::invalid_argument("one_shot_all_reduce: local input larger than the symm buffer");
	kernel(input);
	return out;
}

__attribute__((noinline)) at::Tensor one_shot_all_reduce(const at::Tensor &input, std::string reduce_op,
	std::string group_name)
{
	return one_shot_all_reduce_out_impl(input, std::nullopt, reduce_op, group_name, empty_like(input));
}

__attribute__((noinline)) at::Tensor one_shot_all_reduce_out(const at::Tensor &input, std::string reduce_op,
	std::string group_name, at::Tensor out)
{
	return one_shot_all_reduce_out_impl(input, std::nullopt, reduce_op, group_name, out);
}

__attribute__((noinline)) at::Tensor one_shot_all_reduce_copy(const at::Tensor &input, const at::Tensor &local_input,
	std::string reduce_op, std::string group_name)
{
	return one_shot_all_reduce_out_impl(input, local_input, reduce_op, group_name, empty_like(local_input));
}

__attribute__((noinline)) at::Tensor one_shot_all_reduce_copy_out(const at::Tensor &input,
	const at::Tensor &local_input, std::string reduce_op, std::string group_name, at::Tensor out)
{
	return one_shot_all_reduce_out_impl(input, local_input, reduce_op, group_name, out);
}

__attribute__((noinline)) at::Tensor two_shot_all_reduce_impl(at::Tensor input, std::optional<at::Tensor> output,
	std::string reduce_op, std::string group_name)
{
	check(input, reduce_op, group_name);
	kernel(input);
	return output ? *output : input;
}

__attribute__((noinline)) at::Tensor two_shot_all_reduce_(at::Tensor input, std::string reduce_op,
	std::string group_name)
{
	return two_shot_all_reduce_impl(input, std::nullopt, reduce_op, group_name);
}

__attribute__((noinline)) at::Tensor two_shot_all_reduce_out(at::Tensor input, std::string reduce_op,
	std::string group_name, at::Tensor output)
{
	return two_shot_all_reduce_impl(input, output, reduce_op, group_name);
}

__attribute__((noinline)) at::Tensor reduce_scatter_out(at::Tensor input, std::string group_name,
	bool split_last_dim, at::Tensor output)
{
	check(input, "sum", group_name);
	if (split_last_dim)
		throw std::invalid_argument("reduce_scatter: the fake splits the first dimension only");
	kernel(output);
	return output;
}

__attribute__((noinline)) at::Tensor multimem_all_reduce_(const at::Tensor &input, std::string reduce_op,
	std::string group_name)
{
	check(input, reduce_op, group_name);
	kernel(input);
	return input;
}

__attribute__((noinline)) at::Tensor multimem_one_shot_all_reduce_out(const at::Tensor &input,
	std::string reduce_op, std::string group_name, at::Tensor out)
{
	check(input, reduce_op, group_name);
	kernel(input);
	return out;
}

__attribute__((noinline)) at::Tensor multimem_one_shot_all_reduce(const at::Tensor &input, std::string reduce_op,
	std::string group_name)
{
	return multimem_one_shot_all_reduce_out(input, reduce_op, group_name, empty_like(input));
}

__attribute__((noinline)) at::Tensor multimem_all_gather_out(const at::Tensor &input, std::string group_name,
	at::Tensor out)
{
	check(input, "sum", group_name);
	kernel(input);
	return out;
}

} // namespace

// Same name, named namespace: the demangled-name patterns must not match.
namespace other {
__attribute__((noinline)) at::Tensor one_shot_all_reduce(const at::Tensor &input, std::string reduce_op,
	std::string group_name)
{
	fake_symm_elements -= input.numel() + (long)reduce_op.size() + (long)group_name.size();
	return input;
}
} // namespace other

extern "C" __attribute__((visibility("default"))) void *fake_symm_mem_op(const char *name)
{
	static const struct {
		const char *name;
		void *fn;
	} ops[] = {
		{"one_shot_all_reduce", (void *)&one_shot_all_reduce},
		{"one_shot_all_reduce_out", (void *)&one_shot_all_reduce_out},
		{"one_shot_all_reduce_copy", (void *)&one_shot_all_reduce_copy},
		{"one_shot_all_reduce_copy_out", (void *)&one_shot_all_reduce_copy_out},
		{"two_shot_all_reduce_", (void *)&two_shot_all_reduce_},
		{"two_shot_all_reduce_out", (void *)&two_shot_all_reduce_out},
		{"reduce_scatter_out", (void *)&reduce_scatter_out},
		{"multimem_all_reduce_", (void *)&multimem_all_reduce_},
		{"multimem_one_shot_all_reduce", (void *)&multimem_one_shot_all_reduce},
		{"multimem_one_shot_all_reduce_out", (void *)&multimem_one_shot_all_reduce_out},
		{"multimem_all_gather_out", (void *)&multimem_all_gather_out},
		{"other::one_shot_all_reduce", (void *)&other::one_shot_all_reduce},
	};
	for (const auto &op : ops)
		if (std::strcmp(op.name, name) == 0)
			return op.fn;
	return nullptr;
}
