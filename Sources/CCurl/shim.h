#ifndef CCURL_SHIM_H
#define CCURL_SHIM_H

#include <curl/curl.h>

/// curl_easy_setopt is variadic; Swift needs one typed entry point per argument type.
static inline CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ccurl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ccurl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ccurl_setopt_int64(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

/// curl_easy_getinfo is variadic too; one wrapper per result type.
static inline CURLcode ccurl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode ccurl_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

/// CURLAUTH_* are macros with casts Swift does not import.
static inline long ccurl_auth_basic(void) { return (long)CURLAUTH_BASIC; }
static inline long ccurl_auth_digest(void) { return (long)CURLAUTH_DIGEST; }
static inline long ccurl_auth_bearer(void) { return (long)CURLAUTH_BEARER; }

/// The callback signature libcurl expects for CURLOPT_WRITEFUNCTION / CURLOPT_READFUNCTION.
typedef size_t (*ccurl_io_callback)(char *buffer, size_t size, size_t count, void *user);
static inline CURLcode ccurl_setopt_io_callback(CURL *handle, CURLoption option, ccurl_io_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

/// CURLOPT_SEEKFUNCTION: libcurl rewinds the body when authentication (Digest) makes it send twice.
typedef int (*ccurl_seek_callback)(void *user, curl_off_t offset, int origin);
static inline CURLcode ccurl_setopt_seek_callback(CURL *handle, ccurl_seek_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_SEEKFUNCTION, callback);
}
static inline int ccurl_seekfunc_ok(void) { return CURL_SEEKFUNC_OK; }
static inline int ccurl_seekfunc_fail(void) { return CURL_SEEKFUNC_FAIL; }

/// CURLOPT_XFERINFOFUNCTION: called about once a second and per chunk; non-zero aborts the transfer.
typedef int (*ccurl_xferinfo_callback)(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                                       curl_off_t ulnow);
static inline CURLcode ccurl_setopt_xferinfo_callback(CURL *handle, ccurl_xferinfo_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
}

#endif
