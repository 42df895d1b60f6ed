{
  "targets": [
    {
      "target_name": "ddinit_native_blas",
      "sources": ["src/addon.c", "src/columns.c", "src/conv.c", "src/gaussian.c", "src/kmeans.c", "src/lapack.c", "src/lrn.c", "src/moments.c"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu", "/usr/include/openblas"],
      "libraries": ["-lopenblas"],
      "cflags": ["-O3", "-std=c11", "-Wall", "-Wextra", "-fno-strict-aliasing"],
      "cflags!": ["-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
