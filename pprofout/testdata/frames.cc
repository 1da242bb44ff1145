// Built by symbolize_test.go into a shared library whose symbols the
// symbolizer must find (.symtab) and demangle; a stripped copy checks the
// .dynsym fallback.
namespace linkprof {
namespace serve {
int layer(int x) { return x * 3 + 1; }
struct Engine {
  int step(int n);
};
int Engine::step(int n) { return layer(n) + 2; }
}  // namespace serve
}  // namespace linkprof
