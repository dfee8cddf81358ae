{
  # The kvcache-cluster addon (see README.md). Built by scripts/build-native.mjs during `npm ci`
  # and loaded with node-gyp-build from build/Release/kvc_native.node.
  #
  # Node-API version 8 is pinned, so one build runs on every Node release that has it (Node 20
  # and later). C++ exceptions are on (node-addon-api's NAPI_CPP_EXCEPTIONS, and _ALL so that a
  # std::bad_alloc also becomes a JavaScript error instead of a crash). The SIMD kernels carry
  # their own target attributes and are picked at run time, so no -m flags are needed and the
  # binary runs on any x86-64. -Werror goes in cflags_cc because Node's common.gypi strips it
  # from cflags.
  'targets': [
    {
      'target_name': 'kvc_native',
      'sources': [
        'src/addon.cc',
        'src/allocator.cc',
        'src/convert.cc',
        'src/cpu-features.cc',
        'src/crc32c.cc',
        'src/file-append.cc',
        'src/numa.cc',
        'src/pinned.cc',
        'src/sha256.cc',
        'src/shared-lookup.cc',
      ],
      'include_dirs': [
        "<!(node -p \"require('node-addon-api').include_dir\")",
      ],
      'defines': [
        'NAPI_VERSION=8',
        'NAPI_CPP_EXCEPTIONS',
        'NODE_ADDON_API_CPP_EXCEPTIONS_ALL',
        'NODE_ADDON_API_DISABLE_DEPRECATED',
      ],
      'cflags!': ['-fno-exceptions'],
      'cflags_cc!': ['-fno-exceptions', '-std=gnu++17'],
      'cflags_cc': ['-std=c++17', '-fexceptions', '-Wall', '-Wextra', '-Werror', '-O3', '-fvisibility=hidden'],
      'conditions': [
        ['OS=="linux"', {
          'libraries': ['-ldl'],
        }],
      ],
    },
  ],
}
