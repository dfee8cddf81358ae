// sysfs parsing for the NUMA topology and sched_setaffinity for thread pinning (rules in numa.h).
#include "numa.h"

#include <dirent.h>
#include <sched.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace kvc {

namespace {

constexpr int kCpuIdDigitsMax = 9;

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Parses 1..max_digits decimal digits at `text[pos]`, advancing `pos`; false when there are none
// or more than max_digits.
bool ParseDigits(const std::string& text, size_t& pos, int max_digits, int64_t& value) {
  const size_t start = pos;
  value = 0;
  while (pos < text.size() && IsDigit(text[pos])) {
    if (static_cast<int>(pos - start) == max_digits) return false;
    value = value * 10 + (text[pos] - '0');
    pos++;
  }
  return pos > start;
}

// One cpulist token, blanks already trimmed: "A" or "A-B".
void AddCpuToken(const std::string& token, std::vector<int>& cpus) {
  size_t pos = 0;
  int64_t low = 0;
  int64_t high = 0;
  if (!ParseDigits(token, pos, kCpuIdDigitsMax, low)) return;
  high = low;
  if (pos < token.size()) {
    if (token[pos] != '-') return;
    pos++;
    if (!ParseDigits(token, pos, kCpuIdDigitsMax, high) || pos != token.size()) return;
  }
  if (low > high || high > kCpuIdMax) return;
  for (int64_t cpu = low; cpu <= high; cpu++) cpus.push_back(static_cast<int>(cpu));
}

bool ReadWholeFile(const std::string& path, std::string& text) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return false;
  char chunk[4096];
  size_t got;
  text.clear();
  while ((got = std::fread(chunk, 1, sizeof chunk, file)) > 0) text.append(chunk, got);
  std::fclose(file);
  return true;
}

bool IsDirectory(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

// The id of a directory entry named node<digits>, or -1.
int64_t NodeIdOf(const char* name) {
  const std::string text(name);
  if (text.compare(0, 4, "node") != 0) return -1;
  size_t pos = 4;
  int64_t id = 0;
  if (!ParseDigits(text, pos, kNodeIdDigitsMax, id) || pos != text.size()) return -1;
  return id;
}

}  // namespace

std::vector<int> ParseCpuList(const std::string& text) {
  std::vector<int> cpus;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    size_t first = start;
    size_t last = end;
    while (first < last && IsBlank(text[first])) first++;
    while (last > first && IsBlank(text[last - 1])) last--;
    if (last > first) AddCpuToken(text.substr(first, last - first), cpus);
    start = end + 1;
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

double ParseMemTotalBytes(const std::string& text) {
  static const char kKey[] = "MemTotal:";
  size_t pos = text.find(kKey);
  if (pos == std::string::npos) return 0;
  pos += sizeof kKey - 1;
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) pos++;
  int64_t kib = 0;
  int digits = 0;
  while (pos < text.size() && IsDigit(text[pos]) && digits < kMemTotalDigitsMax) {
    kib = kib * 10 + (text[pos++] - '0');
    digits++;
  }
  // kib < 10^15 < 2^50, so kib * 1024 is exact as a double, as it is in JavaScript.
  return static_cast<double>(kib) * 1024.0;
}

std::vector<NumaNode> ReadNumaTopology(const std::string& root) {
  std::vector<NumaNode> nodes;
  DIR* dir = ::opendir(root.c_str());
  if (dir == nullptr) return nodes;
  while (const dirent* entry = ::readdir(dir)) {
    const int64_t id = NodeIdOf(entry->d_name);
    const std::string path = root + "/" + entry->d_name;
    if (id < 0 || !IsDirectory(path)) continue;
    NumaNode node{entry->d_name, id, {}, 0};
    std::string text;
    if (ReadWholeFile(path + "/cpulist", text)) node.cpus = ParseCpuList(text);
    if (ReadWholeFile(path + "/meminfo", text)) node.memory_bytes = ParseMemTotalBytes(text);
    nodes.push_back(std::move(node));
  }
  ::closedir(dir);
  std::sort(nodes.begin(), nodes.end(),
            [](const NumaNode& a, const NumaNode& b) { return a.id != b.id ? a.id < b.id : a.name < b.name; });
  return nodes;
}

#if defined(__linux__)

int SetCallingThreadAffinity(const std::vector<int>& cpus) {
  const int highest = *std::max_element(cpus.begin(), cpus.end());
  cpu_set_t* set = CPU_ALLOC(highest + 1);
  if (set == nullptr) return ENOMEM;
  const size_t size = CPU_ALLOC_SIZE(highest + 1);
  CPU_ZERO_S(size, set);
  for (int cpu : cpus) CPU_SET_S(cpu, size, set);
  // pid 0 is the calling thread (Linux affinity is per thread), not the whole process.
  const int result = ::sched_setaffinity(0, size, set);
  const int error = result == 0 ? 0 : errno;
  CPU_FREE(set);
  return error;
}

std::vector<int> CallingThreadAffinity(int& error) {
  std::vector<int> cpus;
  const int count = kCpuIdMax + 1;
  cpu_set_t* set = CPU_ALLOC(count);
  if (set == nullptr) {
    error = ENOMEM;
    return cpus;
  }
  const size_t size = CPU_ALLOC_SIZE(count);
  CPU_ZERO_S(size, set);
  error = ::sched_getaffinity(0, size, set) == 0 ? 0 : errno;
  for (int cpu = 0; error == 0 && cpu < count; cpu++) {
    if (CPU_ISSET_S(cpu, size, set)) cpus.push_back(cpu);
  }
  CPU_FREE(set);
  return cpus;
}

#else

int SetCallingThreadAffinity(const std::vector<int>&) { return ENOSYS; }

std::vector<int> CallingThreadAffinity(int& error) {
  error = ENOSYS;
  return {};
}

#endif  // __linux__

}  // namespace kvc
