// NUMA topology from sysfs and thread affinity, without libnuma.
//
// The parsing rules are shared with the TypeScript fallback (src/native/numa.ts), and a test
// checks that both give equal results on the same fake sysfs trees:
// - nodes are the directories (symbolic links followed) named `node<digits>` directly under the
//   root, at most kNodeIdDigitsMax digits, sorted by id (equal ids, as node1 and node01, by name);
// - `node<N>/cpulist` is a comma-separated list of tokens `A` or `A-B` (1..9 decimal digits each,
//   A <= B <= kCpuIdMax); blanks (space, tab, CR, LF) around a token are ignored and any other
//   token is skipped; the CPUs come out sorted without duplicates; a missing file gives none;
// - `node<N>/meminfo`: after the first `MemTotal:` and any spaces or tabs, the next 1..15 digits
//   are the kB (1024 bytes); no digits there, no `MemTotal:` or a missing file give 0.
// A missing root, or one without node directories, gives an empty list; the TypeScript caller then
// reports one node 0 with every CPU and all memory.
#ifndef KVC_NATIVE_NUMA_H_
#define KVC_NATIVE_NUMA_H_

#include <cstdint>
#include <string>
#include <vector>

namespace kvc {

constexpr int kCpuIdMax = 65535;
constexpr int kNodeIdDigitsMax = 9;
constexpr int kMemTotalDigitsMax = 15;

struct NumaNode {
  std::string name;  // the directory's name, the tie-break of the order
  int64_t id;
  std::vector<int> cpus;
  double memory_bytes;  // a double because it goes to JavaScript as a number (exact below 2^53)
};

std::vector<int> ParseCpuList(const std::string& text);
double ParseMemTotalBytes(const std::string& text);
std::vector<NumaNode> ReadNumaTopology(const std::string& root);

// Pins the calling thread to `cpus`. Returns 0 or the errno of sched_setaffinity (ENOSYS where the
// platform has none).
int SetCallingThreadAffinity(const std::vector<int>& cpus);
// The calling thread's allowed CPUs; `error` gets 0 or an errno.
std::vector<int> CallingThreadAffinity(int& error);

}  // namespace kvc

#endif  // KVC_NATIVE_NUMA_H_
