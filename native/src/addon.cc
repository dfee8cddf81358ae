// The JavaScript surface of the addon: argument checks (TypeError / RangeError, like Node's own
// APIs), conversion of results to JavaScript values, and the life cycle of pinned regions. The
// real work is in the other files, which know nothing of Node-API. src/native/index.ts is the only
// caller; it validates arguments too, so these checks guard against misuse of the raw addon.
//
// Pinned regions: each one is an external ArrayBuffer over its mapping. It is released exactly
// once, either by freePinned (which detaches the ArrayBuffer first, so JavaScript can no longer
// reach the memory) or by the ArrayBuffer's finalizer when it is collected. A process-wide
// registry, keyed by the mapping's address and guarded by a mutex because worker threads load
// the addon too, lets freePinned find a region from its ArrayBuffer.
#include <napi.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "allocator.h"
#include "convert.h"
#include "cpu-features.h"
#include "crc32c.h"
#include "errno-name.h"
#include "file-append.h"
#include "numa.h"
#include "pinned.h"
#include "shared-lookup.h"

namespace kvc {

namespace {

// Bumped whenever the exports change, so src/native/index.ts can refuse a stale build.
constexpr int kApiVersion = 10;
// The largest region allocPinned accepts (1 TiB): a typo in a size must not map the address space.
constexpr double kPinnedBytesMax = 1099511627776.0;

struct Region {
  PinnedMapping mapping;
  // The registry key: the ArrayBuffer's first byte (mapping.base, or past a shared file's header).
  void* data = nullptr;
  bool released = false;
};

std::mutex registry_mutex;
std::unordered_map<void*, Region*> registry;

[[noreturn]] void ThrowType(Napi::Env env, const std::string& message) { throw Napi::TypeError::New(env, message); }

[[noreturn]] void ThrowRange(Napi::Env env, const std::string& message) { throw Napi::RangeError::New(env, message); }

// The data pointer and element count of a typed array of exactly `type`.
void* TypedArrayData(Napi::Env env, const Napi::Value& value, napi_typedarray_type type, const char* what,
                     size_t& length) {
  napi_typedarray_type actual;
  void* data = nullptr;
  if (!value.IsTypedArray() ||
      napi_get_typedarray_info(env, value, &actual, &length, &data, nullptr, nullptr) != napi_ok || actual != type) {
    ThrowType(env, std::string(what) + " has the wrong type");
  }
  return data;
}

double IntegerArgument(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsNumber()) ThrowType(env, std::string(what) + " must be a number");
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || std::trunc(number) != number) ThrowRange(env, std::string(what) + " must be an integer");
  return number;
}

// A path argument for a file this call creates: a string, absolute (`what` names the call).
std::string AbsolutePathArgument(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsString()) ThrowType(env, std::string(what) + ": path must be a string");
  std::string path = value.As<Napi::String>().Utf8Value();
  if (path.empty() || path[0] != '/') ThrowRange(env, std::string(what) + ": path must be absolute");
  return path;
}

Napi::Value CpuFeaturesJs(const Napi::CallbackInfo& info) {
  const CpuFeatures& features = DetectedCpuFeatures();
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("sse42", features.sse42);
  result.Set("f16c", features.f16c);
  result.Set("avx2", features.avx2);
  result.Set("avx512Clmul", features.avx512_clmul);
  return result;
}

Napi::Value SetSimdEnabledJs(const Napi::CallbackInfo& info) {
  if (!info[0].IsBoolean()) ThrowType(info.Env(), "setSimdEnabled: enabled must be a boolean");
  return Napi::Boolean::New(info.Env(), SetSimdEnabled(info[0].As<Napi::Boolean>().Value()));
}

Napi::Value SetWideSimdEnabledJs(const Napi::CallbackInfo& info) {
  if (!info[0].IsBoolean()) ThrowType(info.Env(), "setWideSimdEnabled: enabled must be a boolean");
  return Napi::Boolean::New(info.Env(), SetWideSimdEnabled(info[0].As<Napi::Boolean>().Value()));
}

uint32_t SeedArgument(Napi::Env env, const Napi::Value& value, const char* what) {
  const double seed = IntegerArgument(env, value, what);
  if (seed < 0 || seed > 4294967295.0) ThrowRange(env, std::string(what) + " must be an unsigned 32-bit integer");
  return static_cast<uint32_t>(seed);
}

Napi::Value Crc32cJs(const Napi::CallbackInfo& info) {
  size_t length = 0;
  const void* data = TypedArrayData(info.Env(), info[0], napi_uint8_array, "crc32c: data", length);
  const uint32_t seed = SeedArgument(info.Env(), info[1], "crc32c: seed");
  const uint32_t crc = Crc32c(static_cast<const uint8_t*>(data), length, seed);
  return Napi::Number::New(info.Env(), crc);
}

// copyCrc32c(src, dst, dstOffset, seed): copies src into dst at dstOffset and returns the CRC-32C
// (from `seed`) of the bytes written, in one pass (CopyCrc32c).
Napi::Value CopyCrc32cJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t length = 0;
  const void* src = TypedArrayData(env, info[0], napi_uint8_array, "copyCrc32c: src", length);
  size_t dst_length = 0;
  void* dst = TypedArrayData(env, info[1], napi_uint8_array, "copyCrc32c: dst", dst_length);
  const double offset = IntegerArgument(env, info[2], "copyCrc32c: dstOffset");
  const uint32_t seed = SeedArgument(env, info[3], "copyCrc32c: seed");
  if (offset < 0 || offset > static_cast<double>(dst_length) || length > dst_length - static_cast<size_t>(offset)) {
    ThrowRange(env, "copyCrc32c: " + std::to_string(length) + " bytes at " + std::to_string(static_cast<uint64_t>(offset)) +
                        " do not fit the " + std::to_string(dst_length) + "-byte destination");
  }
  uint8_t* to = static_cast<uint8_t*>(dst) + static_cast<size_t>(offset);
  const uint8_t* from = static_cast<const uint8_t*>(src);
  if (length > 0 && from < to + length && to < from + length) ThrowRange(env, "copyCrc32c: src and dst overlap");
  return Napi::Number::New(env, CopyCrc32c(to, from, length, seed));
}

// Shared checks of the three conversions: dst must hold src's elements.
void CheckDestination(Napi::Env env, size_t source_length, size_t destination_length, const char* name) {
  if (destination_length < source_length) {
    ThrowRange(env, std::string(name) + ": destination holds " + std::to_string(destination_length) + " elements, " +
                        std::to_string(source_length) + " needed");
  }
}

Napi::Value Fp32ToFp16Js(const Napi::CallbackInfo& info) {
  size_t count = 0;
  size_t room = 0;
  const void* src = TypedArrayData(info.Env(), info[0], napi_float32_array, "fp32ToFp16: src", count);
  void* dst = TypedArrayData(info.Env(), info[1], napi_uint16_array, "fp32ToFp16: dst", room);
  CheckDestination(info.Env(), count, room, "fp32ToFp16");
  Fp32ToFp16(static_cast<const uint32_t*>(src), static_cast<uint16_t*>(dst), count);
  return info.Env().Undefined();
}

Napi::Value Bf16ToFp16Js(const Napi::CallbackInfo& info) {
  size_t count = 0;
  size_t room = 0;
  const void* src = TypedArrayData(info.Env(), info[0], napi_uint16_array, "bf16ToFp16: src", count);
  void* dst = TypedArrayData(info.Env(), info[1], napi_uint16_array, "bf16ToFp16: dst", room);
  CheckDestination(info.Env(), count, room, "bf16ToFp16");
  Bf16ToFp16(static_cast<const uint16_t*>(src), static_cast<uint16_t*>(dst), count);
  return info.Env().Undefined();
}

Napi::Value Fp16ToFp32Js(const Napi::CallbackInfo& info) {
  size_t count = 0;
  size_t room = 0;
  const void* src = TypedArrayData(info.Env(), info[0], napi_uint16_array, "fp16ToFp32: src", count);
  void* dst = TypedArrayData(info.Env(), info[1], napi_float32_array, "fp16ToFp32: dst", room);
  CheckDestination(info.Env(), count, room, "fp16ToFp32");
  Fp16ToFp32(static_cast<const uint16_t*>(src), static_cast<uint32_t*>(dst), count);
  return info.Env().Undefined();
}

Napi::Value NumaTopologyJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) ThrowType(env, "numaTopology: root must be a string");
  const std::vector<NumaNode> nodes = ReadNumaTopology(info[0].As<Napi::String>().Utf8Value());
  Napi::Array result = Napi::Array::New(env, nodes.size());
  for (size_t i = 0; i < nodes.size(); i++) {
    Napi::Array cpus = Napi::Array::New(env, nodes[i].cpus.size());
    for (size_t c = 0; c < nodes[i].cpus.size(); c++) cpus.Set(static_cast<uint32_t>(c), nodes[i].cpus[c]);
    Napi::Object node = Napi::Object::New(env);
    node.Set("id", Napi::Number::New(env, static_cast<double>(nodes[i].id)));
    node.Set("cpus", cpus);
    node.Set("memoryBytes", Napi::Number::New(env, nodes[i].memory_bytes));
    result.Set(static_cast<uint32_t>(i), node);
  }
  return result;
}

Napi::Value SetThreadAffinityJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) ThrowType(env, "setThreadAffinity: cpus must be an array");
  Napi::Array array = info[0].As<Napi::Array>();
  if (array.Length() == 0) ThrowRange(env, "setThreadAffinity: cpus must not be empty");
  std::vector<int> cpus;
  for (uint32_t i = 0; i < array.Length(); i++) {
    const double cpu = IntegerArgument(env, array.Get(i), "setThreadAffinity: a cpu");
    if (cpu < 0 || cpu > kCpuIdMax) ThrowRange(env, "setThreadAffinity: cpu ids run from 0 to " + std::to_string(kCpuIdMax));
    cpus.push_back(static_cast<int>(cpu));
  }
  return Napi::Boolean::New(env, SetCallingThreadAffinity(cpus) == 0);
}

Napi::Value ThreadAffinityJs(const Napi::CallbackInfo& info) {
  int error = 0;
  const std::vector<int> cpus = CallingThreadAffinity(error);
  if (error != 0) return info.Env().Null();
  Napi::Array result = Napi::Array::New(info.Env(), cpus.size());
  for (size_t i = 0; i < cpus.size(); i++) result.Set(static_cast<uint32_t>(i), cpus[i]);
  return result;
}

struct FileRange {
  int fd;
  double offset;
  double length;
};

// (fd, offset, length) arguments: a descriptor and a byte range of safe integers.
FileRange FileRangeArguments(const Napi::CallbackInfo& info, const std::string& what) {
  Napi::Env env = info.Env();
  const double fd = IntegerArgument(env, info[0], (what + ": fd").c_str());
  const double offset = IntegerArgument(env, info[1], (what + ": offset").c_str());
  const double length = IntegerArgument(env, info[2], (what + ": length").c_str());
  if (fd < 0 || fd > 2147483647.0) ThrowRange(env, what + ": fd must be a descriptor");
  if (offset < 0 || length < 0 || offset + length > 9007199254740991.0) {
    ThrowRange(env, what + ": offset and length must be non-negative safe integers");
  }
  return {static_cast<int>(fd), offset, length};
}

// posix_fadvise(POSIX_FADV_DONTNEED) over [offset, offset + length): the kernel drops the range's
// clean pages from the page cache (dirty ones stay; callers drop what fdatasync just wrote). Returns
// '' or the errno's name. Cheap (no I/O for clean pages), so it runs on the calling thread.
Napi::Value DropCachedPagesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const FileRange range = FileRangeArguments(info, "dropCachedPages");
  const int error = ::posix_fadvise(range.fd, static_cast<off_t>(range.offset), static_cast<off_t>(range.length),
                                    POSIX_FADV_DONTNEED);
  return Napi::String::New(env, error == 0 ? std::string() : ErrnoName(error));
}

// One appendDurable: AppendDurable (file-append.h) on a thread of libuv's pool. It keeps the chunks
// alive (a reference to their array) until its completion callback, which settles the promise on
// the JavaScript thread: with '' or the errno name of a failed drop (the append itself is done),
// or, when the write or the fdatasync failed, with an Error carrying `code`, `errno` and `syscall`
// as Node's fs errors do.
class AppendWorker : public Napi::AsyncWorker {
 public:
  AppendWorker(Napi::Env env, int fd, std::vector<iovec> chunks, off_t position, bool sync, off_t drop_offset,
               off_t drop_length, const Napi::Value& keep)
      : Napi::AsyncWorker(env, "kvcAppendDurable"),
        deferred_(Napi::Promise::Deferred::New(env)),
        fd_(fd),
        chunks_(std::move(chunks)),
        position_(position),
        sync_(sync),
        drop_offset_(drop_offset),
        drop_length_(drop_length) {
    keep_ = Napi::Persistent(keep.As<Napi::Object>());
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    outcome_ = AppendDurable(fd_, chunks_, position_, sync_, drop_offset_, drop_length_);
    if (outcome_.error != 0) SetError(outcome_.failed_call);
  }

  void OnOK() override {
    deferred_.Resolve(Napi::String::New(Env(), outcome_.drop_error == 0 ? std::string() : ErrnoName(outcome_.drop_error)));
  }

  void OnError(const Napi::Error& /*error*/) override {
    const std::string code = ErrnoName(outcome_.error);
    Napi::Error error = Napi::Error::New(Env(), code + ": " + std::strerror(outcome_.error) + ", " + outcome_.failed_call);
    error.Set("code", Napi::String::New(Env(), code));
    error.Set("errno", Napi::Number::New(Env(), -outcome_.error));
    error.Set("syscall", Napi::String::New(Env(), outcome_.failed_call));
    deferred_.Reject(error.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference keep_;
  int fd_;
  std::vector<iovec> chunks_;
  off_t position_;
  bool sync_;
  off_t drop_offset_;
  off_t drop_length_;
  AppendOutcome outcome_;
};

// appendDurable(fd, chunks, position, sync, dropOffset, dropLength): writes the Uint8Arrays of
// `chunks` at `position`, then fdatasync when `sync`, then drops [dropOffset, dropOffset +
// dropLength) from the page cache when dropLength > 0, all on one thread of libuv's pool; a promise
// (see AppendWorker). The chunks must not be written to until it settles. Argument errors throw at
// once.
Napi::Value AppendDurableJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const double fd = IntegerArgument(env, info[0], "appendDurable: fd");
  if (fd < 0 || fd > 2147483647.0) ThrowRange(env, "appendDurable: fd must be a descriptor");
  if (!info[1].IsArray()) ThrowType(env, "appendDurable: chunks must be an array");
  const Napi::Array array = info[1].As<Napi::Array>();
  const double position = IntegerArgument(env, info[2], "appendDurable: position");
  if (!info[3].IsBoolean()) ThrowType(env, "appendDurable: sync must be a boolean");
  const double drop_offset = IntegerArgument(env, info[4], "appendDurable: dropOffset");
  const double drop_length = IntegerArgument(env, info[5], "appendDurable: dropLength");
  std::vector<iovec> chunks(array.Length());
  double bytes = 0;
  for (uint32_t i = 0; i < array.Length(); i++) {
    size_t length = 0;
    chunks[i].iov_base = TypedArrayData(env, array.Get(i), napi_uint8_array, "appendDurable: each chunk", length);
    chunks[i].iov_len = length;
    bytes += static_cast<double>(length);
  }
  if (position < 0 || drop_offset < 0 || drop_length < 0 || position + bytes > 9007199254740991.0 ||
      drop_offset + drop_length > 9007199254740991.0) {
    ThrowRange(env, "appendDurable: position, dropOffset and dropLength must be non-negative safe integers");
  }
  auto* worker = new AppendWorker(env, static_cast<int>(fd), std::move(chunks), static_cast<off_t>(position),
                                  info[3].As<Napi::Boolean>().Value(), static_cast<off_t>(drop_offset),
                                  static_cast<off_t>(drop_length), info[1]);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// How many pages of [offset, offset + length) of `fd` are in the page cache (mmap + mincore); a
// RangeError names errno when they cannot be counted. For tests of 'dropped' appends.
Napi::Value CachedPageCountJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const FileRange range = FileRangeArguments(info, "cachedPageCount");
  if (range.length == 0) return Napi::Number::New(env, 0);
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const off_t start = static_cast<off_t>(range.offset) - static_cast<off_t>(range.offset) % static_cast<off_t>(page);
  const size_t span = static_cast<size_t>(range.offset + range.length - static_cast<double>(start));
  void* base = ::mmap(nullptr, span, PROT_READ, MAP_SHARED, range.fd, start);
  if (base == MAP_FAILED) ThrowRange(env, "cachedPageCount: mmap failed with " + ErrnoName(errno));
  std::vector<unsigned char> resident((span + page - 1) / page);
  const int failed = ::mincore(base, span, resident.data());
  const int error = errno;
  ::munmap(base, span);
  if (failed != 0) ThrowRange(env, "cachedPageCount: mincore failed with " + ErrnoName(error));
  double count = 0;
  for (unsigned char bits : resident) count += (bits & 1);
  return Napi::Number::New(env, count);
}

void AdjustExternalMemory(napi_env env, int64_t change) {
  int64_t total = 0;
  // Tells V8 how much memory hangs off JavaScript objects, so its heap heuristics see the
  // regions; a failure only makes those heuristics less informed.
  napi_adjust_external_memory(env, change, &total);
}

// Releases a region once: the first caller (freePinned or the finalizer) wins.
bool TakeForRelease(Region* region) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  if (region->released) return false;
  region->released = true;
  registry.erase(region->data);
  return true;
}

void FinalizeRegion(napi_env env, void* /*data*/, void* hint) {
  Region* region = static_cast<Region*>(hint);
  if (TakeForRelease(region)) {
    UnmapPinned(region->mapping);
    AdjustExternalMemory(env, -static_cast<int64_t>(region->mapping.mapped_bytes));
  }
  delete region;
}

[[noreturn]] void ThrowSystemError(Napi::Env env, const PinnedOutcome& outcome, size_t bytes) {
  const std::string code = ErrnoName(outcome.error);
  Napi::Error error = Napi::Error::New(env, "allocPinned: " + std::string(outcome.syscall) + " of " +
                                                std::to_string(bytes) + " bytes failed (" + code + ")");
  error.Set("code", code);
  error.Set("syscall", outcome.syscall);
  throw error;
}

[[noreturn]] void ThrowSharedError(Napi::Env env, const std::string& what, int errno_value, const char* syscall) {
  const std::string code = ErrnoName(errno_value);
  Napi::Error error = Napi::Error::New(env, what + ": " + syscall + " failed (" + code + ")");
  error.Set("code", code);
  error.Set("syscall", syscall);
  throw error;
}

Napi::Object DescribeRegion(Napi::Env env, napi_value buffer, size_t bytes, const PinnedOutcome& outcome) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("buffer", Napi::Value(env, buffer));
  result.Set("bytes", Napi::Number::New(env, static_cast<double>(bytes)));
  result.Set("numaNode", outcome.numa_node < 0 ? env.Null() : Napi::Number::New(env, outcome.numa_node));
  result.Set("mlocked", outcome.mapping.mlocked);
  result.Set("hugePageAligned", true);
  result.Set("cudaRegistered", outcome.mapping.cuda_registered);
  result.Set("note", outcome.note);
  return result;
}

// Wraps a mapped region in an external ArrayBuffer of `bytes` starting at `data` and registers it.
Napi::Value ExposeRegion(Napi::Env env, const PinnedOutcome& outcome, void* data, size_t bytes) {
  Region* region = new Region{outcome.mapping, data, false};
  napi_value buffer = nullptr;
  // The ArrayBuffer is exactly `bytes` long; the rest of the last huge page stays unreachable.
  if (napi_create_external_arraybuffer(env, data, bytes, FinalizeRegion, region, &buffer) != napi_ok) {
    UnmapPinned(outcome.mapping);
    delete region;
    Napi::Error error = Napi::Error::New(env, "allocPinned: this runtime refuses external ArrayBuffers");
    error.Set("code", "ERR_KVC_NO_EXTERNAL_BUFFERS");
    throw error;
  }
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    registry[data] = region;
  }
  AdjustExternalMemory(env, static_cast<int64_t>(outcome.mapping.mapped_bytes));
  return DescribeRegion(env, buffer, bytes, outcome);
}

Napi::Value AllocPinnedJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const double bytes_number = IntegerArgument(env, info[0], "allocPinned: bytes");
  if (bytes_number < 1 || bytes_number > kPinnedBytesMax) ThrowRange(env, "allocPinned: bytes must be 1 to 1 TiB");
  const double node_number = IntegerArgument(env, info[1], "allocPinned: numaNode");
  if (node_number < -1 || node_number > kNumaNodeIdMax) ThrowRange(env, "allocPinned: numaNode must be -1 (none) to 1023");
  const size_t bytes = static_cast<size_t>(bytes_number);
  const PinnedOutcome outcome = MapPinned(bytes, static_cast<int>(node_number));
  if (outcome.mapping.base == nullptr) ThrowSystemError(env, outcome, bytes);
  return ExposeRegion(env, outcome, outcome.mapping.base, bytes);
}

// allocShared(path, bytes, numaNode, header): a pinned region in a new shared-memory file
// (MapSharedPinned). The ArrayBuffer covers the payload bytes only, not the header.
Napi::Value AllocSharedJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = AbsolutePathArgument(env, info[0], "allocShared");
  const double bytes_number = IntegerArgument(env, info[1], "allocShared: bytes");
  if (bytes_number < 1 || bytes_number > kPinnedBytesMax) ThrowRange(env, "allocShared: bytes must be 1 to 1 TiB");
  const double node_number = IntegerArgument(env, info[2], "allocShared: numaNode");
  if (node_number < -1 || node_number > kNumaNodeIdMax) ThrowRange(env, "allocShared: numaNode must be -1 (none) to 1023");
  size_t header_bytes = 0;
  const void* header = TypedArrayData(env, info[3], napi_uint8_array, "allocShared: header", header_bytes);
  if (header_bytes > kSharedDataOffset) ThrowRange(env, "allocShared: header is larger than the data offset");
  const size_t bytes = static_cast<size_t>(bytes_number);
  const PinnedOutcome outcome = MapSharedPinned(path, bytes, static_cast<int>(node_number),
                                                static_cast<const unsigned char*>(header), header_bytes);
  if (outcome.mapping.base == nullptr) ThrowSharedError(env, "allocShared " + path, outcome.error, outcome.syscall);
  Napi::Object region = ExposeRegion(env, outcome, static_cast<char*>(outcome.mapping.base) + kSharedDataOffset, bytes).As<Napi::Object>();
  region.Set("fileBytes", Napi::Number::New(env, static_cast<double>(outcome.mapping.mapped_bytes)));
  region.Set("dataOffset", Napi::Number::New(env, static_cast<double>(kSharedDataOffset)));
  return region;
}

// A reader's read-only mapping of another process's shared region (openShared). JavaScript never
// gets a view of it: a write through one would kill the process, and the owner may rewrite any
// byte not under a lease, so every read is an explicit, bounds-checked copy (copyShared).
// `copying` counts copies running on libuv's pool (copySharedCrc32cAsync); a close while one runs
// refuses new reads at once and unmaps when the last one ends. Both fields are only touched on the
// JavaScript thread (a copy's start and its completion callback run there).
struct SharedView {
  void* base = nullptr;
  size_t bytes = 0;
  bool closed = false;
  uint32_t copying = 0;
};

void UnmapSharedView(SharedView* view) {
  if (view->base != nullptr) ::munmap(view->base, view->bytes);
  view->base = nullptr;
}

void FinalizeSharedView(Napi::Env /*env*/, SharedView* view) {
  // A running copy holds a reference to the handle, so none runs here.
  UnmapSharedView(view);
  delete view;
}

SharedView* ViewArgument(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsExternal()) ThrowType(env, std::string(what) + ": handle must come from openShared");
  SharedView* view = value.As<Napi::External<SharedView>>().Data();
  if (view->closed) ThrowRange(env, std::string(what) + ": the mapping is closed");
  return view;
}

Napi::Value OpenSharedJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) ThrowType(env, "openShared: path must be a string");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  void* base = nullptr;
  size_t bytes = 0;
  const char* syscall = "";
  const int error = MapReadOnly(path, base, bytes, syscall);
  if (error != 0) ThrowSharedError(env, "openShared " + path, error, syscall);
  Napi::Object result = Napi::Object::New(env);
  result.Set("handle", Napi::External<SharedView>::New(env, new SharedView{base, bytes}, FinalizeSharedView));
  result.Set("bytes", Napi::Number::New(env, static_cast<double>(bytes)));
  return result;
}

// The `length` bytes at `offset` of the mapping; throws a RangeError naming `what` when they are
// not all inside it.
const uint8_t* MappedRange(Napi::Env env, const SharedView* view, double offset, size_t length, const char* what) {
  if (offset < 0 || offset > static_cast<double>(view->bytes) || length > view->bytes - static_cast<size_t>(offset)) {
    ThrowRange(env, std::string(what) + ": [" + std::to_string(static_cast<uint64_t>(offset)) + ", +" + std::to_string(length) +
                        ") is outside the " + std::to_string(view->bytes) + "-byte mapping");
  }
  return static_cast<const uint8_t*>(view->base) + static_cast<size_t>(offset);
}

// copyShared(handle, offset, dst): copies dst.length bytes from `offset` of the mapping.
Napi::Value CopySharedJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SharedView* view = ViewArgument(env, info[0], "copyShared");
  const double offset = IntegerArgument(env, info[1], "copyShared: offset");
  size_t length = 0;
  void* dst = TypedArrayData(env, info[2], napi_uint8_array, "copyShared: dst", length);
  std::memcpy(dst, MappedRange(env, view, offset, length, "copyShared"), length);
  return env.Undefined();
}

// The arguments (handle, offset, dst, seed) of copySharedCrc32c and its async twin, checked.
struct SharedCopyArgs {
  SharedView* view;
  const uint8_t* from;
  uint8_t* to;
  size_t length;
  uint32_t seed;
};

SharedCopyArgs SharedCopyArguments(const Napi::CallbackInfo& info, const std::string& what) {
  Napi::Env env = info.Env();
  SharedCopyArgs args{};
  args.view = ViewArgument(env, info[0], what.c_str());
  const double offset = IntegerArgument(env, info[1], (what + ": offset").c_str());
  args.to = static_cast<uint8_t*>(TypedArrayData(env, info[2], napi_uint8_array, (what + ": dst").c_str(), args.length));
  args.seed = SeedArgument(env, info[3], (what + ": seed").c_str());
  args.from = MappedRange(env, args.view, offset, args.length, what.c_str());
  return args;
}

// copySharedCrc32c(handle, offset, dst, seed): copyShared that also returns the CRC-32C (from
// `seed`) of the bytes as written to dst, in the same pass (CopyCrc32c).
Napi::Value CopySharedCrc32cJs(const Napi::CallbackInfo& info) {
  const SharedCopyArgs args = SharedCopyArguments(info, "copySharedCrc32c");
  return Napi::Number::New(info.Env(), CopyCrc32c(args.to, args.from, args.length, args.seed));
}

// One copySharedCrc32cAsync: the copy and its CRC-32C on a thread of libuv's pool. It keeps the
// handle and dst alive (a reference to both) and the mapping mapped (view->copying) until its
// completion callback, which settles the promise on the JavaScript thread.
class SharedCopyWorker : public Napi::AsyncWorker {
 public:
  SharedCopyWorker(Napi::Env env, const SharedCopyArgs& args, const Napi::Value& handle, const Napi::Value& dst)
      : Napi::AsyncWorker(env, "kvcCopySharedCrc32c"),
        deferred_(Napi::Promise::Deferred::New(env)),
        view_(args.view),
        from_(args.from),
        to_(args.to),
        length_(args.length),
        seed_(args.seed) {
    Napi::Object keep = Napi::Object::New(env);
    keep.Set("handle", handle);
    keep.Set("dst", dst);
    keep_ = Napi::Persistent(keep);
    view_->copying++;
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override { crc_ = CopyCrc32c(to_, from_, length_, seed_); }

  void OnOK() override {
    Done();
    deferred_.Resolve(Napi::Number::New(Env(), crc_));
  }

  void OnError(const Napi::Error& error) override {
    Done();
    deferred_.Reject(error.Value());
  }

 private:
  void Done() {
    if (--view_->copying == 0 && view_->closed) UnmapSharedView(view_);
  }

  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference keep_;
  SharedView* view_;
  const uint8_t* from_;
  uint8_t* to_;
  size_t length_;
  uint32_t seed_;
  uint32_t crc_ = 0;
};

// copySharedCrc32cAsync(handle, offset, dst, seed): copySharedCrc32c on a thread of libuv's pool,
// so that copies of large pages run beside the JavaScript thread and each other; a promise of the
// CRC-32C. dst must not be read, written or transferred until it settles. Argument errors throw at
// once, as copySharedCrc32c's do.
Napi::Value CopySharedCrc32cAsyncJs(const Napi::CallbackInfo& info) {
  const SharedCopyArgs args = SharedCopyArguments(info, "copySharedCrc32cAsync");
  auto* worker = new SharedCopyWorker(info.Env(), args, info[0], info[2]);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value CloseSharedJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsExternal()) ThrowType(env, "closeShared: handle must come from openShared");
  SharedView* view = info[0].As<Napi::External<SharedView>>().Data();
  if (view->closed) return Napi::Boolean::New(env, false);
  view->closed = true;
  // Copies still running on the pool read the mapping: the last one to end unmaps it.
  if (view->copying == 0) UnmapSharedView(view);
  return Napi::Boolean::New(env, true);
}

// Shared lookup indexes (shared-lookup.h): one external per mapping, for the writer's read-write
// mapping or a reader's read-only one. The two kinds carry different type tags: a writer function
// given a reader's handle would store through a read-only mapping and kill the process, and an
// external of another kind (openShared's) must not pass for either.
struct LookupHandle {
  LookupMapping mapping;
  std::string path;
};

constexpr napi_type_tag kLookupWriterTag = {0x0cf796d639c15d75ULL, 0xb8252289b3207255ULL};
constexpr napi_type_tag kLookupReaderTag = {0x35d4f6db9b9283a1ULL, 0x6ca6625ef72bb037ULL};

void FinalizeLookupWriter(Napi::Env /*env*/, LookupHandle* handle) {
  // A writer collected without close leaves an index nobody maintains: retire it, so readers stop
  // answering from it.
  if (handle->mapping.base != nullptr) RetireLookup(handle->mapping);
  UnmapLookup(handle->mapping);
  delete handle;
}

void FinalizeLookupReader(Napi::Env /*env*/, LookupHandle* handle) {
  UnmapLookup(handle->mapping);
  delete handle;
}

// The handle's record, whether or not it is closed yet.
LookupHandle* LookupRecord(Napi::Env env, const Napi::Value& value, const napi_type_tag& tag, const char* what,
                           const char* maker) {
  if (!value.IsExternal() || !value.As<Napi::External<LookupHandle>>().CheckTypeTag(&tag)) {
    ThrowType(env, std::string(what) + ": handle must come from " + maker);
  }
  return value.As<Napi::External<LookupHandle>>().Data();
}

// The handle's open mapping; an Error once it is closed.
const LookupMapping& OpenLookupMapping(Napi::Env env, const Napi::Value& value, const napi_type_tag& tag, const char* what,
                                       const char* maker) {
  LookupHandle* handle = LookupRecord(env, value, tag, what, maker);
  if (handle->mapping.base == nullptr) throw Napi::Error::New(env, std::string(what) + ": the shared lookup index is closed");
  return handle->mapping;
}

const LookupMapping& WriterMapping(Napi::Env env, const Napi::Value& value, const char* what) {
  return OpenLookupMapping(env, value, kLookupWriterTag, what, "createSharedLookup");
}

const LookupMapping& ReaderMapping(Napi::Env env, const Napi::Value& value, const char* what) {
  return OpenLookupMapping(env, value, kLookupReaderTag, what, "openSharedLookup");
}

// A Uint8Array of whole little-endian u64 fingerprints, none of them 0 or 1; their count goes to `count`.
const uint8_t* FingerprintsArgument(Napi::Env env, const Napi::Value& value, const std::string& what, size_t& count) {
  size_t bytes = 0;
  const uint8_t* data = static_cast<const uint8_t*>(TypedArrayData(env, value, napi_uint8_array, what.c_str(), bytes));
  if (bytes % kFingerprintBytes != 0) {
    ThrowRange(env, what + " must hold whole 8-byte fingerprints, not " + std::to_string(bytes) + " bytes");
  }
  count = bytes / kFingerprintBytes;
  const size_t reserved = FindReservedFingerprint(data, count);
  if (reserved < count) {
    ThrowRange(env, what + ": fingerprint " + std::to_string(reserved) + " is 0 or 1, the values of empty and tombstone slots");
  }
  return data;
}

std::string LookupCounters(const LookupMapping& mapping) {
  const LookupStats stats = ReadLookupStats(mapping);
  return "used " + std::to_string(stats.used) + " + tombstones " + std::to_string(stats.tombstones);
}

// createSharedLookup(path, capacity, nonce): a new index file (CreateLookup) and its writer handle.
Napi::Value CreateSharedLookupJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = AbsolutePathArgument(env, info[0], "createSharedLookup");
  const double capacity = IntegerArgument(env, info[1], "createSharedLookup: capacity");
  if (capacity < 0 || capacity > static_cast<double>(kLookupCapacityMax) || !IsLookupCapacity(static_cast<uint64_t>(capacity))) {
    ThrowRange(env, "createSharedLookup: capacity must be a power of two from 1024 to 2^32");
  }
  size_t nonce_bytes = 0;
  const void* nonce = TypedArrayData(env, info[2], napi_uint8_array, "createSharedLookup: nonce", nonce_bytes);
  if (nonce_bytes != kLookupNonceBytes) ThrowRange(env, "createSharedLookup: nonce must be 16 bytes");
  const LookupOutcome outcome = CreateLookup(path, static_cast<uint64_t>(capacity), static_cast<const uint8_t*>(nonce));
  if (outcome.mapping.base == nullptr) ThrowSharedError(env, "createSharedLookup " + path, outcome.error, outcome.syscall);
  auto handle = Napi::External<LookupHandle>::New(env, new LookupHandle{outcome.mapping, path}, FinalizeLookupWriter);
  handle.TypeTag(&kLookupWriterTag);
  return handle;
}

// applySharedLookup(handle, adds, removes): removes, then adds, in one write section (ApplyLookup).
Napi::Value ApplySharedLookupJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const LookupMapping& mapping = WriterMapping(env, info[0], "applySharedLookup");
  size_t add_count = 0;
  size_t remove_count = 0;
  const uint8_t* adds = FingerprintsArgument(env, info[1], "applySharedLookup: adds", add_count);
  const uint8_t* removes = FingerprintsArgument(env, info[2], "applySharedLookup: removes", remove_count);
  // The caller grows or rebuilds the index long before this; reaching it is a bug of the caller's.
  if (!LookupHasRoomFor(mapping, add_count)) {
    ThrowRange(env, "applySharedLookup: " + LookupCounters(mapping) + " + " + std::to_string(add_count) + " adds exceed " +
                        std::to_string(LookupRoom(mapping.capacity)) + " slots, 90% of the capacity " +
                        std::to_string(mapping.capacity) + " (rebuild or grow first)");
  }
  ApplyLookup(mapping, adds, add_count, removes, remove_count);
  return env.Undefined();
}

// rebuildSharedLookup(handle, fingerprints): the whole set replaced in one write section.
Napi::Value RebuildSharedLookupJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const LookupMapping& mapping = WriterMapping(env, info[0], "rebuildSharedLookup");
  size_t count = 0;
  const uint8_t* fingerprints = FingerprintsArgument(env, info[1], "rebuildSharedLookup: fingerprints", count);
  if (count > LookupRoom(mapping.capacity)) {
    ThrowRange(env, "rebuildSharedLookup: " + std::to_string(count) + " fingerprints exceed " +
                        std::to_string(LookupRoom(mapping.capacity)) + " slots, 90% of the capacity " +
                        std::to_string(mapping.capacity));
  }
  RebuildLookup(mapping, fingerprints, count);
  return env.Undefined();
}

Napi::Value RetireSharedLookupJs(const Napi::CallbackInfo& info) {
  RetireLookup(WriterMapping(info.Env(), info[0], "retireSharedLookup"));
  return info.Env().Undefined();
}

Napi::Value SharedLookupStatsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const LookupStats stats = ReadLookupStats(WriterMapping(env, info[0], "sharedLookupStats"));
  Napi::Object result = Napi::Object::New(env);
  result.Set("capacity", Napi::Number::New(env, static_cast<double>(stats.capacity)));
  result.Set("used", Napi::Number::New(env, static_cast<double>(stats.used)));
  result.Set("tombstones", Napi::Number::New(env, static_cast<double>(stats.tombstones)));
  result.Set("seq", Napi::Number::New(env, static_cast<double>(stats.seq)));
  return result;
}

// sharedLookupLive(handle): the fingerprints in the table, 8 bytes each, in slot order.
Napi::Value SharedLookupLiveJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const LookupMapping& mapping = WriterMapping(env, info[0], "sharedLookupLive");
  const size_t used = static_cast<size_t>(ReadLookupStats(mapping).used);
  Napi::Uint8Array live = Napi::Uint8Array::New(env, used * kFingerprintBytes);
  const size_t copied = CopyLiveFingerprints(mapping, live.Data(), used);
  if (copied != used) {
    throw Napi::Error::New(env, "sharedLookupLive: the table holds " + std::string(copied > used ? "more than " : "") +
                                    std::to_string(copied > used ? used : copied) + " fingerprints, its used counter says " +
                                    std::to_string(used));
  }
  return live;
}

// closeSharedLookup(handle, unlink): retires the index (its readers must stop using it), unmaps it
// and removes the file when asked. True when this call closed it, false when it was closed before.
Napi::Value CloseSharedLookupJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LookupHandle* handle = LookupRecord(env, info[0], kLookupWriterTag, "closeSharedLookup", "createSharedLookup");
  if (!info[1].IsBoolean()) ThrowType(env, "closeSharedLookup: unlink must be a boolean");
  if (handle->mapping.base == nullptr) return Napi::Boolean::New(env, false);
  RetireLookup(handle->mapping);
  UnmapLookup(handle->mapping);
  // ENOENT: someone removed the file already, which is what was asked.
  if (info[1].As<Napi::Boolean>().Value() && ::unlink(handle->path.c_str()) != 0 && errno != ENOENT) {
    ThrowSharedError(env, "closeSharedLookup " + handle->path, errno, "unlink");
  }
  return Napi::Boolean::New(env, true);
}

// openSharedLookup(path): a reader's mapping (OpenLookup): {handle, nonce, capacity}.
Napi::Value OpenSharedLookupJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) ThrowType(env, "openSharedLookup: path must be a string");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  const LookupOutcome outcome = OpenLookup(path);
  if (!outcome.invalid.empty()) {
    Napi::Error error = Napi::Error::New(env, "openSharedLookup " + path + ": " + outcome.invalid);
    error.Set("code", "ERR_KVC_BAD_SHARED_LOOKUP");
    throw error;
  }
  if (outcome.mapping.base == nullptr) ThrowSharedError(env, "openSharedLookup " + path, outcome.error, outcome.syscall);
  auto handle = Napi::External<LookupHandle>::New(env, new LookupHandle{outcome.mapping, path}, FinalizeLookupReader);
  handle.TypeTag(&kLookupReaderTag);
  Napi::Uint8Array nonce = Napi::Uint8Array::New(env, kLookupNonceBytes);
  CopyLookupNonce(outcome.mapping, nonce.Data());
  Napi::Object result = Napi::Object::New(env);
  result.Set("handle", handle);
  result.Set("nonce", nonce);
  result.Set("capacity", Napi::Number::New(env, static_cast<double>(outcome.mapping.capacity)));
  return result;
}

// matchSharedLookup(handle, fingerprints): the longest present prefix's length, -1 busy, -2 retired.
Napi::Value MatchSharedLookupJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const LookupMapping& mapping = ReaderMapping(env, info[0], "matchSharedLookup");
  size_t count = 0;
  const uint8_t* fingerprints = FingerprintsArgument(env, info[1], "matchSharedLookup: fingerprints", count);
  return Napi::Number::New(env, static_cast<double>(MatchLookup(mapping, fingerprints, count)));
}

// The keys of a lookup, packed by the caller into one buffer (`packed`, key i ending at
// `ends[i]`) so that one call passes them all: a Uint8Array per key would cost a Node-API call
// each, and a small on-heap key its buffer's materialization. `prefix` is the namespace's UTF-8
// bytes and 0x00. All stay alive for the call.
std::vector<KeyBytes> PackedKeysArgument(Napi::Env env, const Napi::CallbackInfo& info, size_t first, const char* what) {
  size_t packed_length = 0;
  const auto* packed = static_cast<const uint8_t*>(TypedArrayData(env, info[first], napi_uint8_array, what, packed_length));
  size_t ends_length = 0;
  const auto* ends = static_cast<const uint32_t*>(TypedArrayData(env, info[first + 1], napi_uint32_array, what, ends_length));
  const double count = IntegerArgument(env, info[first + 2], what);
  if (count > static_cast<double>(ends_length)) ThrowRange(env, std::string(what) + ": count is past the ends");
  std::vector<KeyBytes> keys(static_cast<size_t>(count));
  size_t start = 0;
  for (size_t i = 0; i < keys.size(); i++) {
    if (ends[i] < start || ends[i] > packed_length) ThrowRange(env, std::string(what) + ": key ends out of order or past the packed bytes");
    keys[i] = KeyBytes{packed + start, ends[i] - start};
    start = ends[i];
  }
  return keys;
}

// matchSharedLookupKeys(handle, prefix, packed, ends, count): matchSharedLookup of the keys'
// fingerprints, hashed here (KeyFingerprint) and only as far as the match goes.
Napi::Value MatchSharedLookupKeysJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const LookupMapping& mapping = ReaderMapping(env, info[0], "matchSharedLookupKeys");
  size_t prefix_length = 0;
  const void* prefix = TypedArrayData(env, info[1], napi_uint8_array, "matchSharedLookupKeys: prefix", prefix_length);
  const std::vector<KeyBytes> keys = PackedKeysArgument(env, info, 2, "matchSharedLookupKeys: keys");
  return Napi::Number::New(env, static_cast<double>(MatchLookupKeys(mapping, static_cast<const uint8_t*>(prefix), prefix_length,
                                                                    keys.data(), keys.size())));
}

// lookupFingerprints(prefix, packed, ends, count): the fingerprints of the keys (KeyFingerprint), 8 bytes each.
Napi::Value LookupFingerprintsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t prefix_length = 0;
  const void* prefix = TypedArrayData(env, info[0], napi_uint8_array, "lookupFingerprints: prefix", prefix_length);
  const std::vector<KeyBytes> keys = PackedKeysArgument(env, info, 1, "lookupFingerprints: keys");
  Napi::Uint8Array out = Napi::Uint8Array::New(env, keys.size() * kFingerprintBytes);
  for (size_t i = 0; i < keys.size(); i++) {
    const uint64_t fp = KeyFingerprint(static_cast<const uint8_t*>(prefix), prefix_length, keys[i]);
    std::memcpy(out.Data() + i * kFingerprintBytes, &fp, sizeof fp);
  }
  return out;
}

Napi::Value SharedLookupRetiredJs(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), IsLookupRetired(ReaderMapping(info.Env(), info[0], "sharedLookupRetired")));
}

// Unmaps now; true when this call did, false when it was closed before (the finalizer does it otherwise).
Napi::Value CloseSharedLookupReaderJs(const Napi::CallbackInfo& info) {
  LookupHandle* handle = LookupRecord(info.Env(), info[0], kLookupReaderTag, "closeSharedLookupReader", "openSharedLookup");
  const bool open = handle->mapping.base != nullptr;
  UnmapLookup(handle->mapping);
  return Napi::Boolean::New(info.Env(), open);
}

// Releases a region now; true when this call released it, false when it was released before.
Napi::Value FreePinnedJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArrayBuffer()) ThrowType(env, "freePinned: buffer must be an ArrayBuffer");
  Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
  if (buffer.IsDetached()) return Napi::Boolean::New(env, false);
  Region* region = nullptr;
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    const auto found = registry.find(buffer.Data());
    if (found != registry.end()) region = found->second;
  }
  if (region == nullptr) ThrowType(env, "freePinned: the buffer was not allocated by allocPinned");
  // Detach first: from here on no JavaScript view can read or write the mapping.
  buffer.Detach();
  if (!TakeForRelease(region)) return Napi::Boolean::New(env, false);
  UnmapPinned(region->mapping);
  AdjustExternalMemory(env, -static_cast<int64_t>(region->mapping.mapped_bytes));
  // The finalizer still runs later (the detached buffer is collected); it finds the region
  // released and only deletes the record.
  return Napi::Boolean::New(env, true);
}

// Thresholds are bytes, 1 .. kAllocatorBytesMax (glibc takes an int).
Napi::Value TuneAllocatorJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  constexpr double kAllocatorBytesMax = 2147483647.0;
  long values[3];
  const char* names[3] = {"tuneAllocator: mmapThresholdBytes", "tuneAllocator: trimThresholdBytes", "tuneAllocator: topPadBytes"};
  for (int i = 0; i < 3; i++) {
    const double value = IntegerArgument(env, info[i], names[i]);
    if (value < 1 || value > kAllocatorBytesMax) ThrowRange(env, std::string(names[i]) + " must be from 1 to 2147483647");
    values[i] = static_cast<long>(value);
  }
  const AllocatorTuning tuning = TuneAllocator(values[0], values[1], values[2]);
  Napi::Object result = Napi::Object::New(env);
  result.Set("applied", tuning.applied);
  result.Set("note", tuning.note);
  return result;
}

Napi::Value TrimAllocatorJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const AllocatorTrim trim = TrimAllocator();
  Napi::Object result = Napi::Object::New(env);
  result.Set("supported", trim.supported);
  result.Set("released", trim.released);
  result.Set("freeBytes", trim.free_bytes);
  return result;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("apiVersion", Napi::Number::New(env, kApiVersion));
  exports.Set("hugePageBytes", Napi::Number::New(env, static_cast<double>(kHugePageBytes)));
  exports.Set("cpuFeatures", Napi::Function::New(env, CpuFeaturesJs, "cpuFeatures"));
  exports.Set("setSimdEnabled", Napi::Function::New(env, SetSimdEnabledJs, "setSimdEnabled"));
  exports.Set("setWideSimdEnabled", Napi::Function::New(env, SetWideSimdEnabledJs, "setWideSimdEnabled"));
  exports.Set("crc32c", Napi::Function::New(env, Crc32cJs, "crc32c"));
  exports.Set("copyCrc32c", Napi::Function::New(env, CopyCrc32cJs, "copyCrc32c"));
  exports.Set("fp32ToFp16", Napi::Function::New(env, Fp32ToFp16Js, "fp32ToFp16"));
  exports.Set("bf16ToFp16", Napi::Function::New(env, Bf16ToFp16Js, "bf16ToFp16"));
  exports.Set("fp16ToFp32", Napi::Function::New(env, Fp16ToFp32Js, "fp16ToFp32"));
  exports.Set("numaTopology", Napi::Function::New(env, NumaTopologyJs, "numaTopology"));
  exports.Set("setThreadAffinity", Napi::Function::New(env, SetThreadAffinityJs, "setThreadAffinity"));
  exports.Set("threadAffinity", Napi::Function::New(env, ThreadAffinityJs, "threadAffinity"));
  exports.Set("dropCachedPages", Napi::Function::New(env, DropCachedPagesJs, "dropCachedPages"));
  exports.Set("appendDurable", Napi::Function::New(env, AppendDurableJs, "appendDurable"));
  exports.Set("cachedPageCount", Napi::Function::New(env, CachedPageCountJs, "cachedPageCount"));
  exports.Set("allocPinned", Napi::Function::New(env, AllocPinnedJs, "allocPinned"));
  exports.Set("freePinned", Napi::Function::New(env, FreePinnedJs, "freePinned"));
  exports.Set("sharedDataOffset", Napi::Number::New(env, static_cast<double>(kSharedDataOffset)));
  exports.Set("allocShared", Napi::Function::New(env, AllocSharedJs, "allocShared"));
  exports.Set("openShared", Napi::Function::New(env, OpenSharedJs, "openShared"));
  exports.Set("copyShared", Napi::Function::New(env, CopySharedJs, "copyShared"));
  exports.Set("copySharedCrc32c", Napi::Function::New(env, CopySharedCrc32cJs, "copySharedCrc32c"));
  exports.Set("copySharedCrc32cAsync", Napi::Function::New(env, CopySharedCrc32cAsyncJs, "copySharedCrc32cAsync"));
  exports.Set("closeShared", Napi::Function::New(env, CloseSharedJs, "closeShared"));
  exports.Set("createSharedLookup", Napi::Function::New(env, CreateSharedLookupJs, "createSharedLookup"));
  exports.Set("applySharedLookup", Napi::Function::New(env, ApplySharedLookupJs, "applySharedLookup"));
  exports.Set("rebuildSharedLookup", Napi::Function::New(env, RebuildSharedLookupJs, "rebuildSharedLookup"));
  exports.Set("retireSharedLookup", Napi::Function::New(env, RetireSharedLookupJs, "retireSharedLookup"));
  exports.Set("sharedLookupStats", Napi::Function::New(env, SharedLookupStatsJs, "sharedLookupStats"));
  exports.Set("sharedLookupLive", Napi::Function::New(env, SharedLookupLiveJs, "sharedLookupLive"));
  exports.Set("closeSharedLookup", Napi::Function::New(env, CloseSharedLookupJs, "closeSharedLookup"));
  exports.Set("openSharedLookup", Napi::Function::New(env, OpenSharedLookupJs, "openSharedLookup"));
  exports.Set("matchSharedLookup", Napi::Function::New(env, MatchSharedLookupJs, "matchSharedLookup"));
  exports.Set("sharedLookupRetired", Napi::Function::New(env, SharedLookupRetiredJs, "sharedLookupRetired"));
  exports.Set("matchSharedLookupKeys", Napi::Function::New(env, MatchSharedLookupKeysJs, "matchSharedLookupKeys"));
  exports.Set("lookupFingerprints", Napi::Function::New(env, LookupFingerprintsJs, "lookupFingerprints"));
  exports.Set("closeSharedLookupReader", Napi::Function::New(env, CloseSharedLookupReaderJs, "closeSharedLookupReader"));
  exports.Set("tuneAllocator", Napi::Function::New(env, TuneAllocatorJs, "tuneAllocator"));
  exports.Set("trimAllocator", Napi::Function::New(env, TrimAllocatorJs, "trimAllocator"));
  return exports;
}

}  // namespace kvc

// NODE_API_MODULE pastes the function's name into an identifier, so it needs an unqualified one.
static Napi::Object InitKvcNative(Napi::Env env, Napi::Object exports) { return kvc::Init(env, exports); }

NODE_API_MODULE(kvc_native, InitKvcNative)
