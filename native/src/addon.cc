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

#include <sys/mman.h>

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
#include "numa.h"
#include "pinned.h"

namespace kvc {

namespace {

// Bumped whenever the exports change, so src/native/index.ts can refuse a stale build.
constexpr int kApiVersion = 5;
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
  if (!info[0].IsString()) ThrowType(env, "allocShared: path must be a string");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  if (path.empty() || path[0] != '/') ThrowRange(env, "allocShared: path must be absolute");
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
struct SharedView {
  void* base = nullptr;
  size_t bytes = 0;
};

void FinalizeSharedView(Napi::Env /*env*/, SharedView* view) {
  if (view->base != nullptr) ::munmap(view->base, view->bytes);
  delete view;
}

SharedView* ViewArgument(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsExternal()) ThrowType(env, std::string(what) + ": handle must come from openShared");
  SharedView* view = value.As<Napi::External<SharedView>>().Data();
  if (view->base == nullptr) ThrowRange(env, std::string(what) + ": the mapping is closed");
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

// copySharedCrc32c(handle, offset, dst, seed): copyShared that also returns the CRC-32C (from
// `seed`) of the bytes as written to dst, in the same pass (CopyCrc32c).
Napi::Value CopySharedCrc32cJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SharedView* view = ViewArgument(env, info[0], "copySharedCrc32c");
  const double offset = IntegerArgument(env, info[1], "copySharedCrc32c: offset");
  size_t length = 0;
  void* dst = TypedArrayData(env, info[2], napi_uint8_array, "copySharedCrc32c: dst", length);
  const uint32_t seed = SeedArgument(env, info[3], "copySharedCrc32c: seed");
  const uint8_t* from = MappedRange(env, view, offset, length, "copySharedCrc32c");
  return Napi::Number::New(env, CopyCrc32c(static_cast<uint8_t*>(dst), from, length, seed));
}

Napi::Value CloseSharedJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsExternal()) ThrowType(env, "closeShared: handle must come from openShared");
  SharedView* view = info[0].As<Napi::External<SharedView>>().Data();
  if (view->base == nullptr) return Napi::Boolean::New(env, false);
  ::munmap(view->base, view->bytes);
  view->base = nullptr;
  return Napi::Boolean::New(env, true);
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
  exports.Set("allocPinned", Napi::Function::New(env, AllocPinnedJs, "allocPinned"));
  exports.Set("freePinned", Napi::Function::New(env, FreePinnedJs, "freePinned"));
  exports.Set("sharedDataOffset", Napi::Number::New(env, static_cast<double>(kSharedDataOffset)));
  exports.Set("allocShared", Napi::Function::New(env, AllocSharedJs, "allocShared"));
  exports.Set("openShared", Napi::Function::New(env, OpenSharedJs, "openShared"));
  exports.Set("copyShared", Napi::Function::New(env, CopySharedJs, "copyShared"));
  exports.Set("copySharedCrc32c", Napi::Function::New(env, CopySharedCrc32cJs, "copySharedCrc32c"));
  exports.Set("closeShared", Napi::Function::New(env, CloseSharedJs, "closeShared"));
  exports.Set("tuneAllocator", Napi::Function::New(env, TuneAllocatorJs, "tuneAllocator"));
  exports.Set("trimAllocator", Napi::Function::New(env, TrimAllocatorJs, "trimAllocator"));
  return exports;
}

}  // namespace kvc

// NODE_API_MODULE pastes the function's name into an identifier, so it needs an unqualified one.
static Napi::Object InitKvcNative(Napi::Env env, Napi::Object exports) { return kvc::Init(env, exports); }

NODE_API_MODULE(kvc_native, InitKvcNative)
