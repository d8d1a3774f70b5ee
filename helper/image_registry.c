// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pull from an OCI distribution / Docker registry v2 endpoint.
 *
 *   GET /v2/REPO/manifests/REF   (index or list -> the host's platform -> manifest)
 *   GET /v2/REPO/blobs/DIGEST    (config and layers; layers in parallel, curl multi)
 *
 * A 401 carries WWW-Authenticate: Basic (send --creds / auth file credentials) or
 * Bearer realm=,service=,scope= (ask the realm for a token, with the credentials when
 * there are any, then retry with it). Every blob is hashed as it arrives and stored
 * only when the digest matches (image_store.c). Blobs are locked in digest order for
 * the whole pull, so two pulls of one image fetch and store it once.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#define CURL_DISABLE_TYPECHECK /* see dl.h */
#include <curl/curl.h>
#include <openssl/evp.h>

#include "dl.h"
#include "image.h"
#include "image_internal.h"
#include "log.h"
#include "utils.h"

#define MAX_MANIFEST (4u << 20)
#define MAX_CONFIG (32u << 20)
#define MAX_TOKEN (1u << 20)
#define PARALLEL 4

struct reg {
	const struct image_ref *ref;
	char *base;              /* scheme://host[:port] */
	char *user, *pass;
	char *auth;              /* "Authorization: ..." header or NULL */
	const char *ca_file;     /* extra CA bundle for TLS, or NULL */
	bool insecure;
};

struct membuf {
	char *data;
	size_t len, max;
	bool overflow;
};

struct hdrs {
	char *www_auth;
	char *content_type;
	char *digest;
};

static void hdrs_clear(struct hdrs *h)
{
	free(h->www_auth);
	free(h->content_type);
	free(h->digest);
	memset(h, 0, sizeof(*h));
}

static size_t mem_write(char *p, size_t sz, size_t n, void *ud)
{
	struct membuf *b = ud;
	size_t len = sz * n;

	if (b->len + len > b->max) {
		b->overflow = true;
		return 0;
	}
	b->data = xrealloc(b->data, b->len + len + 1);
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

static char *trim_dup(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

static size_t hdr_cb(char *p, size_t sz, size_t n, void *ud)
{
	struct hdrs *h = ud;
	size_t len = sz * n;
	char **slot = NULL;
	size_t k = 0;

	if (len > 17 && strncasecmp(p, "WWW-Authenticate:", 17) == 0) {
		slot = &h->www_auth;
		k = 17;
	} else if (len > 13 && strncasecmp(p, "Content-Type:", 13) == 0) {
		slot = &h->content_type;
		k = 13;
	} else if (len > 22 && strncasecmp(p, "Docker-Content-Digest:", 22) == 0) {
		slot = &h->digest;
		k = 22;
	} else if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* a new response (after a redirect): forget the previous one's headers */
		hdrs_clear(h);
	}
	if (slot) {
		free(*slot);
		*slot = trim_dup(p + k, len - k);
	}
	return len;
}

static struct curl_slist *req_headers(struct reg *r, const char *accept)
{
	struct curl_slist *l = NULL;

	if (r->auth)
		l = curl_slist_append(l, r->auth);
	if (accept) {
		cleanup_free char *a = xasprintf("Accept: %s", accept);

		l = curl_slist_append(l, a);
	}
	return l;
}

static void easy_common(struct reg *r, CURL *h, const char *url)
{
	if (r->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, r->ca_file);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "hutch/" "0.1");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
}

/* One GET into memory. *status gets the HTTP status. */
static int http_get(struct reg *r, const char *url, const char *accept, const char *auth_override,
		    size_t max, struct membuf *body, struct hdrs *hd, long *status, hutch_err *err)
{
	CURL *h = curl_easy_init();
	struct curl_slist *l = NULL;
	char ebuf[CURL_ERROR_SIZE] = "";
	CURLcode c;

	if (!h)
		oom();
	memset(body, 0, sizeof(*body));
	body->max = max;
	if (auth_override)
		l = curl_slist_append(l, auth_override);
	else
		l = req_headers(r, NULL);
	if (accept) {
		cleanup_free char *a = xasprintf("Accept: %s", accept);

		l = curl_slist_append(l, a);
	}
	easy_common(r, h, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, mem_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, hdr_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, hd);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	c = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(l);
	curl_easy_cleanup(h);
	if (body->overflow) {
		free(body->data);
		body->data = NULL;
		return hutch_fail(err, 0, "GET %s: response larger than %zu bytes", url, max);
	}
	if (c != CURLE_OK) {
		free(body->data);
		body->data = NULL;
		return hutch_fail(err, 0, "GET %s: %s", url, *ebuf ? ebuf : curl_easy_strerror(c));
	}
	if (!body->data)
		body->data = xstrdup("");
	return 0;
}

/* ---- auth ---- */

static char *b64(const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	hutch_dl_require(HUTCH_DL_CRYPTO);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, n);
	return out;
}

static char *b64_decode(const char *s)
{
	size_t n = strlen(s);
	unsigned char *out = xmalloc(n + 1);
	int len;

	hutch_dl_require(HUTCH_DL_CRYPTO);
	len = EVP_DecodeBlock(out, (const unsigned char *)s, n);

	if (len < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts '=' padding as zero bytes */
	while (n && s[n - 1] == '=') {
		n--;
		len--;
	}
	out[len < 0 ? 0 : len] = '\0';
	return (char *)out;
}

/* Value of key in a challenge: key="value" or key=token, comma separated. */
static char *challenge_param(const char *c, const char *key)
{
	size_t kl = strlen(key);
	const char *p = c;

	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (strncasecmp(p, key, kl) == 0 && p[kl] == '=') {
			const char *v = p + kl + 1, *e;

			if (*v == '"') {
				v++;
				e = strchr(v, '"');
				return e ? strndup(v, e - v) : NULL;
			}
			e = v + strcspn(v, ", ");
			return strndup(v, e - v);
		}
		/* skip this param */
		p += strcspn(p, "=,");
		if (*p == '=') {
			p++;
			if (*p == '"') {
				const char *e = strchr(p + 1, '"');

				if (!e)
					break;
				p = e + 1;
			} else {
				p += strcspn(p, ",");
			}
		}
	}
	return NULL;
}

static char *url_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *r = xstrdup(e);

	curl_free(e);
	return r;
}

static int bearer_token(struct reg *r, const char *challenge, hutch_err *err)
{
	cleanup_free char *realm = challenge_param(challenge, "realm");
	cleanup_free char *service = challenge_param(challenge, "service");
	cleanup_free char *scope = challenge_param(challenge, "scope");
	cleanup_free char *url = NULL, *basic = NULL, *cred = NULL;
	struct membuf body;
	struct hdrs hd = { 0 };
	long status = 0;
	json_object *j, *t;
	const char *tok = NULL;

	if (!realm || (!str_has_prefix(realm, "https://") && !str_has_prefix(realm, "http://")))
		return hutch_fail(err, 0, "registry %s: bearer challenge without a usable realm: %s",
				  r->ref->registry, challenge);
	if (!scope)
		scope = xasprintf("repository:%s:pull", r->ref->repository);
	{
		cleanup_free char *es = service ? url_escape(service) : NULL;
		cleanup_free char *esc = url_escape(scope);

		url = xasprintf("%s%sscope=%s%s%s", realm, strchr(realm, '?') ? "&" : "?", esc,
				es ? "&service=" : "", es ? es : "");
	}
	if (r->user) {
		cred = xasprintf("%s:%s", r->user, r->pass);
		cleanup_free char *enc = b64(cred);

		basic = xasprintf("Authorization: Basic %s", enc);
	}
	log_debug("registry %s: token from %s", r->ref->registry, url);
	if (http_get(r, url, NULL, basic ? basic : "X-Hutch: token", MAX_TOKEN, &body, &hd, &status, err) < 0)
		return hutch_error_prefix(err, "registry %s: token", r->ref->registry);
	hdrs_clear(&hd);
	if (status == 401 || status == 403) {
		free(body.data);
		return hutch_fail(err, EACCES, "registry %s: token server refused %s (HTTP %ld)%s", r->ref->registry,
				  r->user ? "the credentials" : "anonymous access", status,
				  r->user ? "" : "; give --creds USER:PASS or an auth file");
	}
	if (status != 200) {
		free(body.data);
		return hutch_fail(err, 0, "registry %s: token server answered HTTP %ld", r->ref->registry, status);
	}
	j = json_tokener_parse(body.data);
	free(body.data);
	if (j && (json_object_object_get_ex(j, "token", &t) || json_object_object_get_ex(j, "access_token", &t)) &&
	    json_object_is_type(t, json_type_string))
		tok = json_object_get_string(t);
	if (!tok || !*tok) {
		json_object_put(j);
		return hutch_fail(err, 0, "registry %s: token server answer has no token", r->ref->registry);
	}
	free(r->auth);
	r->auth = xasprintf("Authorization: Bearer %s", tok);
	json_object_put(j);
	return 0;
}

/* React to a 401: set r->auth from the challenge. */
static int authenticate(struct reg *r, const char *challenge, hutch_err *err)
{
	if (!challenge)
		return hutch_fail(err, EACCES, "registry %s: HTTP 401 without a WWW-Authenticate challenge",
				  r->ref->registry);
	if (strncasecmp(challenge, "Basic", 5) == 0) {
		cleanup_free char *cred = NULL, *enc = NULL;

		if (!r->user)
			return hutch_fail(err, EACCES, "registry %s: authentication required; give --creds USER:PASS or an auth file",
					  r->ref->registry);
		cred = xasprintf("%s:%s", r->user, r->pass);
		enc = b64(cred);
		free(r->auth);
		r->auth = xasprintf("Authorization: Basic %s", enc);
		return 0;
	}
	if (strncasecmp(challenge, "Bearer", 6) == 0)
		return bearer_token(r, challenge + 6, err);
	return hutch_fail(err, EACCES, "registry %s: unsupported authentication scheme in `%s`", r->ref->registry,
			  challenge);
}

/* GET with the challenge flow: on 401, authenticate once and retry. */
static int reg_get(struct reg *r, const char *path, const char *accept, size_t max, struct membuf *body,
		   struct hdrs *hd, long *status, hutch_err *err)
{
	cleanup_free char *url = xasprintf("%s/v2/%s", r->base, path);

	for (int attempt = 0;; attempt++) {
		hdrs_clear(hd);
		if (http_get(r, url, accept, NULL, max, body, hd, status, err) < 0)
			return -1;
		if (*status != 401 || attempt > 0)
			break;
		free(body->data);
		body->data = NULL;
		if (authenticate(r, hd->www_auth, err) < 0)
			return -1;
	}
	if (*status == 401) {
		free(body->data);
		body->data = NULL;
		return hutch_fail(err, EACCES, "registry %s: authentication failed for %s%s", r->ref->registry,
				  r->ref->repository, r->user ? " (wrong credentials?)" : "; give --creds USER:PASS");
	}
	return 0;
}

/* Credentials from an auth file: {"auths": {"HOST": {"auth": base64(user:pass)}}}. */
static int authfile_creds(const char *registry, const char *path, bool explicit, char **out, hutch_err *err)
{
	cleanup_free char *buf = NULL;
	cleanup_json json_object *j = NULL;
	json_object *auths;

	if (read_file(path, &buf, NULL, NULL) < 0) {
		if (errno == ENOENT && !explicit)
			return 0;
		return hutch_fail(err, errno, "auth file `%s`", path);
	}
	j = json_tokener_parse(buf);
	if (!j || !json_object_object_get_ex(j, "auths", &auths) || !json_object_is_type(auths, json_type_object))
		return hutch_fail(err, 0, "auth file `%s`: auths: expected an object", path);
	json_object_object_foreach(auths, k, v) {
		const char *key = k;
		size_t n;
		json_object *a;

		if (str_has_prefix(key, "https://"))
			key += 8;
		else if (str_has_prefix(key, "http://"))
			key += 7;
		n = strcspn(key, "/");
		if (!(strlen(registry) == n && strncmp(key, registry, n) == 0) &&
		    !(strcmp(registry, "docker.io") == 0 &&
		      (strncmp(key, "index.docker.io", n) == 0 || strncmp(key, "registry-1.docker.io", n) == 0)))
			continue;
		if (!json_object_object_get_ex(v, "auth", &a) || !json_object_is_type(a, json_type_string))
			continue;
		*out = b64_decode(json_object_get_string(a));
		if (!*out || !strchr(*out, ':'))
			return hutch_fail(err, 0, "auth file `%s`: auths.%s.auth: not base64 of USER:PASS", path, k);
		return 1;
	}
	return 0;
}

static int load_creds(struct reg *r, const struct image_pull_opts *o, hutch_err *err)
{
	cleanup_free char *c = NULL;
	char *colon;

	if (o->creds) {
		c = xstrdup(o->creds);
	} else {
		const char *files[4] = { 0 };
		cleanup_free char *rt = NULL, *home = NULL;
		size_t n = 0;

		if (o->authfile) {
			files[n++] = o->authfile;
		} else {
			if (getenv("REGISTRY_AUTH_FILE"))
				files[n++] = getenv("REGISTRY_AUTH_FILE");
			if (getenv("XDG_RUNTIME_DIR"))
				files[n++] = rt = xasprintf("%s/containers/auth.json", getenv("XDG_RUNTIME_DIR"));
			if (getenv("HOME"))
				files[n++] = home = xasprintf("%s/.docker/config.json", getenv("HOME"));
		}
		for (size_t i = 0; i < n && !c; i++) {
			int ret = authfile_creds(r->ref->registry, files[i], o->authfile != NULL, &c, err);

			if (ret < 0)
				return -1;
		}
		if (!c)
			return 0;
	}
	colon = strchr(c, ':');
	if (!colon || colon == c)
		return hutch_fail(err, 0, "--creds: expected USER:PASS");
	*colon = '\0';
	r->user = xstrdup(c);
	r->pass = xstrdup(colon + 1);
	return 0;
}

/* ---- registries.conf ---- */

static bool host_match(const char *entry, const char *registry)
{
	size_t n = strlen(entry);

	if (strcmp(entry, registry) == 0)
		return true;
	/* an entry without a port matches every port of that host */
	return !strchr(entry, ':') && strncmp(registry, entry, n) == 0 && registry[n] == ':';
}

/*
 * registries.conf ($HUTCH_REGISTRIES_CONF or /etc/hutch/registries.conf), lines of
 *   insecure HOST[:PORT]...   plain HTTP for these registries
 *   secure HOST[:PORT]...     HTTPS even for the loopback defaults
 * localhost, 127.0.0.1 and [::1] are insecure unless listed as secure.
 */
bool image_registry_insecure(const char *registry)
{
	static const char *const dflt[] = { "localhost", "127.0.0.1", "[::1]" };
	const char *conf = getenv("HUTCH_REGISTRIES_CONF");
	cleanup_free char *buf = NULL;
	int verdict = -1;

	if (read_file(conf && *conf ? conf : "/etc/hutch/registries.conf", &buf, NULL, NULL) == 0) {
		for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line && verdict < 0;
		     line = strtok_r(NULL, "\n", &save)) {
			char *w, *s2 = NULL;
			bool insecure;

			line[strcspn(line, "#")] = '\0';
			w = strtok_r(line, " \t", &s2);
			if (!w || (strcmp(w, "insecure") != 0 && strcmp(w, "secure") != 0))
				continue;
			insecure = strcmp(w, "insecure") == 0;
			while ((w = strtok_r(NULL, " \t,", &s2)))
				if (host_match(w, registry))
					verdict = insecure;
		}
	}
	if (verdict >= 0)
		return verdict;
	for (size_t i = 0; i < ARRAY_SIZE(dflt); i++)
		if (host_match(dflt[i], registry))
			return true;
	return false;
}

/* ---- platforms ---- */

void image_host_platform(const char **os, const char **arch, const char **variant)
{
	static struct utsname u;
	static const struct { const char *m, *arch, *variant; } map[] = {
		{ "x86_64", "amd64", NULL }, { "aarch64", "arm64", NULL }, { "armv7l", "arm", "v7" },
		{ "armv6l", "arm", "v6" }, { "i686", "386", NULL }, { "i386", "386", NULL },
		{ "ppc64le", "ppc64le", NULL }, { "s390x", "s390x", NULL }, { "riscv64", "riscv64", NULL },
	};

	*os = "linux";
	*arch = "amd64";
	*variant = NULL;
	if (uname(&u) < 0)
		return;
	*arch = u.machine;
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strcmp(u.machine, map[i].m) == 0) {
			*arch = map[i].arch;
			*variant = map[i].variant;
		}
}

int image_platform_parse(const char *platform, char **os, char **arch, char **variant, hutch_err *err)
{
	const char *hos, *harch, *hvar;
	cleanup_strv char **parts = NULL;
	cleanup_free char *s = NULL;

	*os = *arch = *variant = NULL;
	if (!platform) {
		image_host_platform(&hos, &harch, &hvar);
		*os = xstrdup(hos);
		*arch = xstrdup(harch);
		*variant = xstrdup(hvar);
		return 0;
	}
	s = xstrdup(platform);
	for (char *save = NULL, *t = strtok_r(s, "/", &save); t; t = strtok_r(NULL, "/", &save))
		strv_push(&parts, xstrdup(t));
	if (strv_len(parts) < 2 || strv_len(parts) > 3)
		return hutch_fail(err, 0, "--platform: expected OS/ARCH[/VARIANT], got `%s`", platform);
	*os = xstrdup(parts[0]);
	*arch = xstrdup(parts[1]);
	*variant = xstrdup(parts[2]);
	return 0;
}

int image_index_pick(json_object *index, const char *what, const char *platform, const char **digest,
		     hutch_err *err)
{
	cleanup_free char *os = NULL, *arch = NULL, *variant = NULL, *seen = NULL;
	json_object *ms;
	size_t n;

	if (image_platform_parse(platform, &os, &arch, &variant, err) < 0)
		return -1;
	if (!json_object_object_get_ex(index, "manifests", &ms) || !json_object_is_type(ms, json_type_array))
		return hutch_fail(err, 0, "%s: manifests: expected an array", what);
	n = json_object_array_length(ms);
	for (size_t i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(ms, i), *p, *v;
		const char *d, *mt, *mos = "", *march = "", *mvar = NULL;
		int64_t size;
		cleanup_free char *path = xasprintf("manifests[%zu]", i), *old = NULL;

		if (image_descriptor_parse(m, what, path, &d, &mt, &size, err) < 0)
			return -1;
		if (!json_object_object_get_ex(m, "platform", &p))
			continue;
		if (json_object_object_get_ex(p, "os", &v))
			mos = json_object_get_string(v);
		if (json_object_object_get_ex(p, "architecture", &v))
			march = json_object_get_string(v);
		if (json_object_object_get_ex(p, "variant", &v))
			mvar = json_object_get_string(v);
		old = seen;
		seen = xasprintf("%s%s%s/%s%s%s", old ? old : "", old ? ", " : "", mos, march, mvar ? "/" : "",
				 mvar ? mvar : "");
		if (strcmp(mos, os) != 0 || strcmp(march, arch) != 0)
			continue;
		if (variant && mvar && strcmp(variant, mvar) != 0)
			continue;
		*digest = d;
		return 0;
	}
	return hutch_fail(err, ENOENT, "%s: no image for platform %s/%s%s%s (the index has: %s)", what, os, arch,
			  variant ? "/" : "", variant ? variant : "", seen ? seen : "nothing");
}

/* ---- manifests ---- */

static const char ACCEPT[] = MT_OCI_INDEX ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST ", " MT_DOCKER_MANIFEST;

static int fetch_manifest(struct reg *r, const char *reference, const char *expect, char **data, size_t *len,
			  char **digest, hutch_err *err)
{
	cleanup_free char *path = xasprintf("%s/manifests/%s", r->ref->repository, reference);
	struct membuf body;
	struct hdrs hd = { 0 };
	long status = 0;
	cleanup_free char *d = NULL;

	if (reg_get(r, path, ACCEPT, MAX_MANIFEST, &body, &hd, &status, err) < 0) {
		hdrs_clear(&hd);
		return -1;
	}
	hdrs_clear(&hd);
	if (status == 404) {
		free(body.data);
		return hutch_fail(err, ENOENT, "image %s/%s:%s: not found in the registry", r->ref->registry,
				  r->ref->repository, reference);
	}
	if (status != 200) {
		free(body.data);
		return hutch_fail(err, 0, "registry %s: GET manifest %s answered HTTP %ld", r->ref->registry, reference,
				  status);
	}
	d = image_sha256(body.data, body.len);
	if (expect && strcmp(d, expect) != 0) {
		free(body.data);
		return hutch_fail(err, 0, "manifest %s: content has digest %s: refusing it", expect, d);
	}
	*data = body.data;
	*len = body.len;
	*digest = steal_ptr(&d);
	return 0;
}

/* ---- blobs in parallel ---- */

struct xfer {
	CURL *h;
	struct curl_slist *hl;
	struct blob_writer w;
	const char *digest;
	int64_t size;
	hutch_err err;
	curl_off_t now;
	bool done;
	char ebuf[CURL_ERROR_SIZE];
};

static size_t xfer_write(char *p, size_t sz, size_t n, void *ud)
{
	struct xfer *x = ud;

	if (blob_writer_write(&x->w, p, sz * n, &x->err) < 0)
		return 0;
	x->now = x->w.size;
	return sz * n;
}

static void progress(struct xfer *x, size_t n, bool tty, bool final)
{
	double got = 0, total = 0;
	size_t done = 0;
	char a[32], b[32];

	if (!tty)
		return;
	for (size_t i = 0; i < n; i++) {
		got += x[i].now;
		total += x[i].size > 0 ? x[i].size : 0;
		done += x[i].done;
	}
	format_size(a, sizeof(a), got, 0);
	format_size(b, sizeof(b), total, 0);
	fprintf(stderr, "\r\033[KFetching %zu blob%s: %zu done, %s / %s", n, n == 1 ? "" : "s", done, a, b);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

static int fetch_blobs(struct reg *r, const struct image_store *s, char **digests, int64_t *sizes, size_t n,
		       bool quiet, char ***stored, hutch_err *err)
{
	struct xfer *x = xcalloc(n, sizeof(*x));
	CURLM *m = curl_multi_init();
	bool tty = !quiet && isatty(2);
	int running = 0, ret = 0;
	struct timespec last = { 0 }, now;

	if (!m)
		oom();
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)PARALLEL);
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *url = xasprintf("%s/v2/%s/blobs/%s", r->base, r->ref->repository, digests[i]);

		x[i].digest = digests[i];
		x[i].size = sizes[i];
		x[i].w.fd = -1;
		if (blob_writer_open(s, digests[i], sizes[i], &x[i].w, err) < 0) {
			ret = -1;
			goto out;
		}
		x[i].h = curl_easy_init();
		if (!x[i].h)
			oom();
		x[i].hl = req_headers(r, NULL);
		easy_common(r, x[i].h, url);
		curl_easy_setopt(x[i].h, CURLOPT_HTTPHEADER, x[i].hl);
		curl_easy_setopt(x[i].h, CURLOPT_FAILONERROR, 1L);
		curl_easy_setopt(x[i].h, CURLOPT_WRITEFUNCTION, xfer_write);
		curl_easy_setopt(x[i].h, CURLOPT_WRITEDATA, &x[i]);
		curl_easy_setopt(x[i].h, CURLOPT_ERRORBUFFER, x[i].ebuf);
		curl_easy_setopt(x[i].h, CURLOPT_PRIVATE, &x[i]);
		curl_multi_add_handle(m, x[i].h);
	}
	do {
		CURLMsg *msg;
		int left;

		if (curl_multi_perform(m, &running) != CURLM_OK) {
			ret = hutch_fail(err, 0, "registry %s: transfer failed", r->ref->registry);
			goto out;
		}
		while ((msg = curl_multi_info_read(m, &left))) {
			struct xfer *t;
			long status = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			t->done = true;
			if (t->err) {
				ret = hutch_fail(err, 0, "%s", t->err->msg);
				goto out;
			}
			if (msg->data.result != CURLE_OK) {
				if (status == 401 || status == 403)
					ret = hutch_fail(err, EACCES, "registry %s: blob %s: access denied (HTTP %ld)",
							 r->ref->registry, t->digest, status);
				else if (status == 404)
					ret = hutch_fail(err, ENOENT, "registry %s: blob %s: not found", r->ref->registry,
							 t->digest);
				else
					ret = hutch_fail(err, 0, "registry %s: blob %s: %s", r->ref->registry, t->digest,
							 *t->ebuf ? t->ebuf : curl_easy_strerror(msg->data.result));
				goto out;
			}
			if (blob_writer_commit(s, &t->w, NULL, err) < 0) {
				ret = hutch_error_prefix(err, "registry %s", r->ref->registry);
				goto out;
			}
			strv_push(stored, xstrdup(t->digest));
			if (!tty)
				log_debug("fetched %s", t->digest);
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec * 1000 + now.tv_nsec / 1000000 - (last.tv_sec * 1000 + last.tv_nsec / 1000000) >= 200) {
			progress(x, n, tty, false);
			last = now;
		}
		if (running)
			curl_multi_poll(m, NULL, 0, 200, NULL);
	} while (running);
	progress(x, n, tty, true);
out:
	if (ret < 0 && tty)
		fputc('\n', stderr);
	for (size_t i = 0; i < n; i++) {
		if (x[i].h) {
			curl_multi_remove_handle(m, x[i].h);
			curl_easy_cleanup(x[i].h);
		}
		curl_slist_free_all(x[i].hl);
		if (x[i].w.tmp)
			blob_writer_abort(&x[i].w);
		hutch_error_free(&x[i].err);
	}
	curl_multi_cleanup(m);
	free(x);
	return ret;
}

static void reg_clear(struct reg *r)
{
	free(r->base);
	free(r->user);
	free(r->pass);
	free(r->auth);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int image_pull(struct image_store *s, const char *refstr, const struct image_pull_opts *o,
	       char **manifest_digest, hutch_err *err)
{
	struct image_ref ref;
	struct reg r = { 0 };
	cleanup_free char *data = NULL, *digest = NULL, *index_digest = NULL, *name = NULL;
	cleanup_strv char **want = NULL, **stored = NULL;
	cleanup_json json_object *j = NULL;
	struct image_manifest m = { 0 };
	int64_t *sizes = NULL;
	int *locks = NULL;
	size_t len = 0, nwant = 0, nfetch = 0;
	const char *host;
	int ret = -1;

	if (hutch_dl_load(HUTCH_DL_CURL, err) < 0 || image_ref_parse(refstr, &ref, err) < 0)
		return -1;
	r.ref = &ref;
	r.insecure = o->insecure || image_registry_insecure(ref.registry);
	r.ca_file = o->ca_file;
	host = strcmp(ref.registry, "docker.io") == 0 ? "registry-1.docker.io" : ref.registry;
	r.base = xasprintf("%s://%s", r.insecure ? "http" : "https", host);
	name = image_ref_name(&ref);
	if (load_creds(&r, o, err) < 0)
		goto out;
	if (image_store_lock(s, false, err) < 0)
		goto out;
	image_store_clean_tmp(s);

	if (fetch_manifest(&r, ref.digest ? ref.digest : ref.tag, ref.digest, &data, &len, &digest, err) < 0)
		goto out;
	j = json_tokener_parse(data);
	if (!j || !json_object_is_type(j, json_type_object)) {
		hutch_fail(err, 0, "manifest of %s: not a JSON object", name);
		goto out;
	}
	{
		json_object *mt;
		const char *t = json_object_object_get_ex(j, "mediaType", &mt) ? json_object_get_string(mt) : "";

		if (strcmp(t, MT_OCI_INDEX) == 0 || strcmp(t, MT_DOCKER_LIST) == 0 ||
		    (!*t && json_object_object_get_ex(j, "manifests", &mt))) {
			cleanup_free char *what = xasprintf("index %s", digest);
			const char *pick;

			if (image_index_pick(j, what, o->platform, &pick, err) < 0)
				goto out;
			if (!image_blob_exists(s, digest))
				strv_push(&stored, xstrdup(digest));
			if (image_store_put(s, data, len, digest, NULL, err) < 0)
				goto out;
			index_digest = steal_ptr(&digest);
			pick = xstrdup(pick);
			free(data);
			data = NULL;
			json_object_put(j);
			j = NULL;
			ret = fetch_manifest(&r, pick, pick, &data, &len, &digest, err);
			free((char *)pick);
			if (ret < 0)
				goto out;
			ret = -1;
			j = json_tokener_parse(data);
			if (!j || !json_object_is_type(j, json_type_object)) {
				hutch_fail(err, 0, "manifest %s: not a JSON object", digest);
				goto out;
			}
		}
	}
	{
		cleanup_free char *what = xasprintf("manifest %s", digest);

		if (image_manifest_parse(j, what, &m, err) < 0)
			goto out;
	}
	/* the blobs to have: config, then layers; locked in digest order */
	strv_push(&want, xstrdup(m.config_digest));
	for (size_t i = 0; i < m.nlayers; i++)
		if (!strv_contains(want, m.layers[i].digest))
			strv_push(&want, xstrdup(m.layers[i].digest));
	nwant = strv_len(want);
	qsort(want, nwant, sizeof(char *), cmp_str);
	locks = xcalloc(nwant, sizeof(int));
	sizes = xcalloc(nwant, sizeof(int64_t));
	for (size_t i = 0; i < nwant; i++)
		locks[i] = -1;
	for (size_t i = 0; i < nwant; i++) {
		locks[i] = image_blob_lock(s, want[i], false, err);
		if (locks[i] < 0)
			goto out;
	}
	/* compact to the missing ones */
	for (size_t i = 0; i < nwant; i++) {
		if (image_blob_exists(s, want[i]))
			continue;
		sizes[nfetch] = -1;
		if (strcmp(want[i], m.config_digest) == 0) {
			json_object *c;
			const char *dd, *mt;
			int64_t sz;

			json_object_object_get_ex(j, "config", &c);
			image_descriptor_parse(c, "manifest", "config", &dd, &mt, &sz, NULL);
			sizes[nfetch] = sz;
		}
		for (size_t k = 0; k < m.nlayers; k++)
			if (strcmp(m.layers[k].digest, want[i]) == 0)
				sizes[nfetch] = m.layers[k].size;
		if (nfetch != i) {
			char *t = want[nfetch];

			want[nfetch] = want[i];
			want[i] = t;
		}
		nfetch++;
	}
	if (nfetch) {
		char *saved = want[nfetch];

		want[nfetch] = NULL;   /* fetch only the first nfetch */
		ret = fetch_blobs(&r, s, want, sizes, nfetch, o->quiet, &stored, err);
		want[nfetch] = saved;
		if (ret < 0)
			goto out;
		ret = -1;
	}
	/* the config must be JSON we can use */
	{
		json_object *c = NULL;

		if (image_store_read_json(s, m.config_digest, &c, err) < 0)
			goto out;
		json_object_put(c);
	}
	if (!image_blob_exists(s, digest))
		strv_push(&stored, xstrdup(digest));
	if (image_store_put(s, data, len, digest, NULL, err) < 0)
		goto out;
	if (image_refs_set(s, name, digest, index_digest, err) < 0)
		goto out;
	if (manifest_digest)
		*manifest_digest = steal_ptr(&digest);
	ret = 0;
out:
	if (ret < 0) {
		/* nothing of a failed pull stays: remove the blobs it stored */
		for (size_t i = 0; stored && stored[i]; i++) {
			cleanup_free char *p = image_blob_path(s, stored[i]);

			unlink(p);
		}
	}
	for (size_t i = 0; locks && i < nwant; i++)
		if (locks[i] >= 0)
			close(locks[i]);
	free(locks);
	free(sizes);
	image_manifest_clear(&m);
	image_store_unlock(s);
	reg_clear(&r);
	image_ref_clear(&ref);
	return ret;
}
