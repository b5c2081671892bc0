/*
 * Sets glibc's mmap threshold (mallopt M_MMAP_THRESHOLD) for the running process, as the
 * MALLOC_MMAP_THRESHOLD_ variable would have at its start: see src/util/malloc.ts for why.
 * Elsewhere than glibc it does nothing and says so (returns false).
 */
#include <node_api.h>
#include <stdbool.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static napi_value SetMmapThreshold(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t bytes = 0;
  bool ok = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc >= 1) napi_get_value_int32(env, argv[0], &bytes);
#if defined(__GLIBC__)
  if (bytes > 0) ok = mallopt(M_MMAP_THRESHOLD, bytes) == 1;
#endif
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "setMmapThreshold", NAPI_AUTO_LENGTH, SetMmapThreshold, NULL, &fn);
  napi_set_named_property(env, exports, "setMmapThreshold", fn);
  return exports;
}
