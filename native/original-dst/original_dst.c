// Reads the pre-NAT destination of a socket redirected by iptables (SO_ORIGINAL_DST), IPv4 and IPv6.
#include <node_api.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s (errno %d)", what, strerror(err), err);
  napi_throw_error(env, "ERR_ORIGINAL_DST", msg);
  return NULL;
}

// getOriginalDst(fd: number): { address: string, port: number, family: 4 | 6 }
static napi_value get_original_dst(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "expected a file descriptor");
    return NULL;
  }
  struct sockaddr_storage local;
  socklen_t local_len = sizeof local;
  if (getsockname(fd, (struct sockaddr *)&local, &local_len) != 0) return throw_errno(env, "getsockname", errno);

  char text[INET6_ADDRSTRLEN];
  int port = 0;
  int family = 4;
  if (local.ss_family == AF_INET6) {
    struct sockaddr_in6 dst;
    socklen_t len = sizeof dst;
    memset(&dst, 0, sizeof dst);
    if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &dst, &len) != 0) {
      // An IPv4 connection on a dual-stack socket keeps its NAT state in the IPv4 table.
      struct sockaddr_in dst4;
      socklen_t len4 = sizeof dst4;
      if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &dst4, &len4) != 0) return throw_errno(env, "getsockopt(SO_ORIGINAL_DST)", errno);
      inet_ntop(AF_INET, &dst4.sin_addr, text, sizeof text);
      port = ntohs(dst4.sin_port);
    } else {
      inet_ntop(AF_INET6, &dst.sin6_addr, text, sizeof text);
      port = ntohs(dst.sin6_port);
      family = 6;
    }
  } else {
    struct sockaddr_in dst;
    socklen_t len = sizeof dst;
    memset(&dst, 0, sizeof dst);
    if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &dst, &len) != 0) return throw_errno(env, "getsockopt(SO_ORIGINAL_DST)", errno);
    inet_ntop(AF_INET, &dst.sin_addr, text, sizeof text);
    port = ntohs(dst.sin_port);
  }

  napi_value result, address, port_value, family_value;
  napi_create_object(env, &result);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &address);
  napi_create_int32(env, port, &port_value);
  napi_create_int32(env, family, &family_value);
  napi_set_named_property(env, result, "address", address);
  napi_set_named_property(env, result, "port", port_value);
  napi_set_named_property(env, result, "family", family_value);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "getOriginalDst", NAPI_AUTO_LENGTH, get_original_dst, NULL, &fn);
  napi_set_named_property(env, exports, "getOriginalDst", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
