
/*
 * Copyright (C) ngx_http_socketio_module authors
 *
 * Unit tests of the codecs against the vectors captured from the Node
 * packages (t/vectors/, copied from PROTOCOL.md's vectors) and against
 * t/vectors/codec-node.txt, made by t/tools/gen-codec-vectors.js with
 * notepack.io and socket.io-parser themselves.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <math.h>
#include <jansson.h>

#include "ngx_socketio_utf8.h"
#include "ngx_socketio_json.h"
#include "ngx_socketio_msgpack.h"
#include "ngx_socketio_ws.h"
#include "ngx_socketio_packet.h"
#include "ngx_socketio_codec.h"

#include "tap.h"


static const char  *vectors = "t/vectors";


/* helpers */

static size_t
hex_decode(const char *hex, size_t n, u_char *out)
{
    size_t  i;
    int     hi, lo;

    for (i = 0; i + 1 < n; i += 2) {
        hi = isdigit((u_char) hex[i]) ? hex[i] - '0'
                                      : (tolower((u_char) hex[i]) - 'a' + 10);
        lo = isdigit((u_char) hex[i + 1]) ? hex[i + 1] - '0'
                                  : (tolower((u_char) hex[i + 1]) - 'a' + 10);
        out[i / 2] = (u_char) (hi << 4 | lo);
    }

    return n / 2;
}


static char *
read_file(const char *name, size_t *len)
{
    FILE  *f;
    char   path[1024], *buf;
    long   size;

    snprintf(path, sizeof(path), "%s/%s", vectors, name);

    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }

    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);

    buf = malloc(size + 1);
    if (fread(buf, 1, size, f) != (size_t) size) {
        exit(2);
    }

    buf[size] = '\0';
    fclose(f);

    if (len) {
        *len = size;
    }

    return buf;
}


static char *
wbuf_cstr(ngx_socketio_wbuf_t *b)
{
    ngx_socketio_wbuf_addc(b, '\0');
    return (char *) b->start;
}


/* UTF-8 */

static void
test_utf8(void)
{
    size_t    i;
    uint32_t  cp;

    static struct {
        const char  *bytes;
        int          valid;
    } cases[] = {
        { "", 1 },
        { "plain ascii", 1 },
        { "\xc3\xa9", 1 },
        { "\xf0\x9f\x98\x80", 1 },
        { "\xef\xbf\xbf", 1 },
        { "\xf4\x8f\xbf\xbf", 1 },
        { "\xc0\xaf", 0 },                    /* overlong */
        { "\xe0\x80\xaf", 0 },                /* overlong */
        { "\xed\xa0\x80", 0 },                /* surrogate */
        { "\xf4\x90\x80\x80", 0 },            /* > U+10FFFF */
        { "\xc3", 0 },                        /* truncated */
        { "\x80", 0 },                        /* lone continuation */
        { "\xfe", 0 },
        { "a\xe2\x82", 0 },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tap_ok((ngx_socketio_utf8_valid((u_char *) cases[i].bytes,
                                        strlen(cases[i].bytes)) == NGX_OK)
               == cases[i].valid,
               "utf8: case %zu is %s", i, cases[i].valid ? "valid" : "invalid");
    }

    /* maximal subparts, as Node's TextDecoder / Buffer.toString */

    tap_ok(ngx_socketio_utf8_next((u_char *) "\xe2\x82x", (u_char *) "\xe2\x82x" + 3,
                                  &cp) == 2
           && cp == NGX_SOCKETIO_UTF8_INVALID,
           "utf8: truncated sequence is one error of two bytes");

    tap_ok(ngx_socketio_utf8_next((u_char *) "\xed\xa0\x80",
                                  (u_char *) "\xed\xa0\x80" + 3, &cp) == 1,
           "utf8: surrogate lead is one error of one byte");
}


/* JSON as JSON.stringify writes it */

static void
test_json(void)
{
    size_t               i;
    char                *s;
    ngx_socketio_wbuf_t  b;

    static struct {
        double       v;
        const char  *text;
    } numbers[] = {
        { 0.0, "0" },
        { -0.0, "0" },
        { 1.5, "1.5" },
        { -2.25, "-2.25" },
        { 0.1, "0.1" },
        { 1e21, "1e+21" },
        { 1e-7, "1e-7" },
        { 123456789012345680000.0, "123456789012345680000" },
        { 1e20, "100000000000000000000" },
        { 0.000001, "0.000001" },
        { 0.0000015, "0.0000015" },
        { 1.23e-18, "1.23e-18" },
        { 5e-324, "5e-324" },
        { 1.7976931348623157e308, "1.7976931348623157e+308" },
        { 9007199254740994.0, "9007199254740994" },
        { 1.0 / 3, "0.3333333333333333" },
        { 100, "100" },
        { -1e-7, "-1e-7" },
        { 12345.6789, "12345.6789" },
        { NAN, "null" },
        { INFINITY, "null" },
    };

    for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
        ngx_socketio_wbuf_init(&b, 4);
        ngx_socketio_json_double(&b, numbers[i].v);
        s = wbuf_cstr(&b);
        tap_ok(strcmp(s, numbers[i].text) == 0, "json: number %s (got %s)",
               numbers[i].text, s);
        ngx_socketio_wbuf_free(&b);
    }

    /* PROTOCOL 2.11, from the parser table's encoder output */

    ngx_socketio_wbuf_init(&b, 1);
    ngx_socketio_json_string(&b,
                 (u_char *) "\"\\/\b\f\n\r\t\x01\x1f \xc3\xa9\xf0\x9f\x98\x80",
                 strlen("\"\\/\b\f\n\r\t\x01\x1f \xc3\xa9\xf0\x9f\x98\x80"));
    s = wbuf_cstr(&b);
    tap_ok(strcmp(s, "\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f \xc3\xa9"
                     "\xf0\x9f\x98\x80\"") == 0,
           "json: string escapes as JSON.stringify");
    ngx_socketio_wbuf_free(&b);

    ngx_socketio_wbuf_init(&b, 1);
    ngx_socketio_json_string(&b, (u_char *) "\x7f\xe2\x80\xa8", 4);
    s = wbuf_cstr(&b);
    tap_ok(strcmp(s, "\"\x7f\xe2\x80\xa8\"") == 0,
           "json: DEL and U+2028 are written raw");
    ngx_socketio_wbuf_free(&b);

    ngx_socketio_wbuf_init(&b, 1);
    ngx_socketio_json_date(&b, 0);
    ngx_socketio_json_date(&b, -1);
    ngx_socketio_json_date(&b, 8.64e15 + 1);
    s = wbuf_cstr(&b);
    tap_ok(strcmp(s, "\"1970-01-01T00:00:00.000Z\""
                     "\"1969-12-31T23:59:59.999Z\"null") == 0,
           "json: dates (got %s)", s);
    ngx_socketio_wbuf_free(&b);
}


/* msgpack writer against the dialect vectors */

static void
test_msgpack_writer(void)
{
    char                *s, *line, hex[1024];
    size_t               i;
    u_char               want[512];
    size_t               wlen;
    ngx_socketio_wbuf_t  b;

    static int64_t  ints[] = {
        0, 127, 128, 255, 256, 65535, 65536, 4294967295LL, 4294967296LL,
        -1, -32, -33, -128, -129, -32768, -32769, -2147483648LL,
        -2147483649LL
    };

    s = read_file("codec/msgpack-dialects.txt", NULL);

    line = strstr(s, "== integers");
    line = strstr(line, "hex ");
    sscanf(line + 4, "%1000s", hex);
    wlen = hex_decode(hex, strlen(hex), want);

    ngx_socketio_wbuf_init(&b, 1);
    ngx_socketio_mp_array(&b, 18);

    for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        ngx_socketio_mp_int(&b, ints[i]);
    }

    tap_ok(ngx_socketio_wbuf_len(&b) == wlen
           && memcmp(b.start, want, wlen) == 0,
           "msgpack: integers in the smallest form, as notepack.io");
    ngx_socketio_wbuf_free(&b);

    line = strstr(s, "== strings");
    line = strstr(line, "hex ");
    sscanf(line + 4, "%1000s", hex);
    wlen = hex_decode(hex, strlen(hex), want);

    ngx_socketio_wbuf_init(&b, 1);
    ngx_socketio_mp_array(&b, 4);
    ngx_socketio_mp_str(&b, (u_char *) "", 0);
    ngx_socketio_mp_str(&b, (u_char *) "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 31);
    ngx_socketio_mp_str(&b, (u_char *) "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 32);
    ngx_socketio_mp_str(&b, (u_char *) "\xc3\xa9", 2);

    tap_ok(ngx_socketio_wbuf_len(&b) == wlen
           && memcmp(b.start, want, wlen) == 0,
           "msgpack: fixstr / str8 boundaries");
    ngx_socketio_wbuf_free(&b);

    /* [1.5, 0.1, -2.25]: float64, as both JavaScript encoders */

    ngx_socketio_wbuf_init(&b, 1);
    ngx_socketio_mp_double(&b, 1.5);
    ngx_socketio_mp_double(&b, 0.1);
    ngx_socketio_mp_double(&b, -2.25);
    ngx_socketio_mp_double(&b, 3.0);
    wlen = hex_decode("cb3ff8000000000000cb3fb999999999999acbc00200000000000003",
                      56, want);
    tap_ok(ngx_socketio_wbuf_len(&b) == wlen
           && memcmp(b.start, want, wlen) == 0,
           "msgpack: doubles as float64, integral ones as integers");
    ngx_socketio_wbuf_free(&b);

    free(s);
}


/* msgpack reader: malformed input never passes */

static void
test_msgpack_reader(void)
{
    size_t   i, n;
    u_char   buf[64];

    static struct {
        const char  *hex;
        int          valid;
    } cases[] = {
        { "c0", 1 },
        { "93010203", 1 },
        { "9301020304", 0 },                  /* trailing */
        { "930102", 0 },                      /* truncated */
        { "dd7fffffff", 0 },                  /* count beyond the input */
        { "df7fffffff", 0 },
        { "c1", 0 },                          /* never used */
        { "db7fffffff61", 0 },                /* str32 beyond the input */
        { "c7ff00", 0 },
        { "81a161a162", 1 },
        { "8101", 0 },
        { "", 0 },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        n = hex_decode(cases[i].hex, strlen(cases[i].hex), buf);
        tap_ok((ngx_socketio_mp_validate(buf, n) == NGX_OK) == cases[i].valid,
               "msgpack: validate %s", cases[i].hex);
    }

    /* nesting deeper than the walkers allow */

    memset(buf, 0x91, 40);
    buf[40] = 0xc0;
    tap_ok(ngx_socketio_mp_validate(buf, 41) == NGX_ERROR,
           "msgpack: 40 levels of nesting are refused");

    memset(buf, 0x91, 32);
    buf[32] = 0xc0;
    tap_ok(ngx_socketio_mp_validate(buf, 33) == NGX_OK,
           "msgpack: 32 levels of nesting are fine");
}


/* one frame of codec output: text then binary frames */

static int
check_frames(ngx_socketio_frame_t *f, const char *text, size_t tlen,
    char **atts, size_t natts)
{
    u_char       *p, *end, abuf[70000];
    size_t        i, alen;
    uint64_t      len;
    ngx_uint_t    hl;

    p = f->data;
    end = f->data + f->len;

    for (i = 0; i <= natts; i++) {
        if (end - p < 2) {
            return 0;
        }

        if (p[0] != (i == 0 ? 0x81 : 0x82)) {
            return 0;
        }

        len = p[1] & 0x7f;
        hl = 2;

        if (len == 126) {
            len = (uint64_t) p[2] << 8 | p[3];
            hl = 4;

        } else if (len == 127) {
            len = 0;
            for (hl = 2; hl < 10; hl++) {
                len = len << 8 | p[hl];
            }
        }

        p += hl;

        if ((uint64_t) (end - p) < len) {
            return 0;
        }

        if (i == 0) {
            if (len != tlen || memcmp(p, text, tlen) != 0) {
                fprintf(stderr, "# got  %.*s\n# want %.*s\n",
                        (int) ngx_min(len, 300), p, (int) ngx_min(tlen, 300),
                        text);
                return 0;
            }

        } else {
            alen = hex_decode(atts[i - 1], strlen(atts[i - 1]), abuf);

            if (len != alen || memcmp(p, abuf, alen) != 0) {
                return 0;
            }
        }

        p += len;
    }

    return p == end;
}


static void
test_codec_node(void)
{
    char                  *s, *line, *next, *field[32], *hex;
    size_t                 nf, n, count;
    u_char                *msg;
    json_t                *want;
    ngx_str_t              nsp;
    ngx_socketio_mp_t      mp;
    ngx_socketio_frame_t  *f;
    ngx_socketio_mp_obj_t  o;

    s = read_file("codec-node.txt", NULL);
    count = 0;

    for (line = s; *line; line = next) {
        next = strchr(line, '\n');
        if (next == NULL) {
            break;
        }

        *next++ = '\0';

        for (nf = 0; nf < 32; nf++) {
            field[nf] = line;
            line = strchr(line, '\t');
            if (line == NULL) {
                nf++;
                break;
            }
            *line++ = '\0';
        }

        hex = field[0];
        msg = malloc(strlen(hex) / 2 + 1);
        n = hex_decode(hex, strlen(hex), msg);

        nsp.data = (u_char *) field[1];
        nsp.len = strlen(field[1]);

        f = NULL;

        if (ngx_socketio_mp_validate(msg, n) == NGX_OK) {
            mp.pos = msg;
            mp.end = msg + n;

            if (ngx_socketio_mp_read(&mp, &o) == NGX_OK
                && o.type == NGX_SOCKETIO_MP_ARRAY)
            {
                mp.pos = msg;
                f = ngx_socketio_codec_frame(&mp, NGX_SOCKETIO_EVENT, &nsp,
                                             NGX_SOCKETIO_NO_ID);
            }
        }

        if (strcmp(field[2], "ERROR") == 0) {
            tap_ok(f == NULL, "codec-node #%zu: refused like notepack (%.40s)",
                   count, hex);

        } else {
            want = json_loads(field[2], JSON_DECODE_ANY, NULL);

            tap_ok(f != NULL && want != NULL
                   && check_frames(f, json_string_value(want),
                                   json_string_length(want), field + 3,
                                   nf - 3),
                   "codec-node #%zu: frames as socket.io writes them (%.40s)",
                   count, hex);

            json_decref(want);
        }

        if (f) {
            ngx_socketio_frame_release(f);
        }

        free(msg);
        count++;
    }

    tap_ok(count >= 25, "codec-node: %zu vectors read", count);

    free(s);
}


/* the classic adapter's messages, as captured */

static size_t
vector_arg(const char *file, int argn, u_char *out, char *text)
{
    char    *s, *p, *q, key[32];
    size_t   n;

    s = read_file(file, NULL);

    snprintf(key, sizeof(key), "arg%d (", argn);
    p = strstr(s, key);

    if (p == NULL) {
        free(s);
        return 0;
    }

    if (text) {
        q = strstr(p, "text): ");
        if (q && q < strchr(p, '\n')) {
            q += 7;
            n = strchr(q, '\n') - q;
            memcpy(text, q, n);
            text[n] = '\0';
            free(s);
            return n;
        }
    }

    n = 0;
    p = strchr(p, '\n') + 1;

    /* "      00000000  93 a6 42 ...  |..BU-R_8..type..|" */

    while (strncmp(p, "      0", 7) == 0) {
        q = p + 16;

        while (*q != '|' && *q != '\n') {
            if (isxdigit((u_char) q[0]) && isxdigit((u_char) q[1])) {
                n += hex_decode(q, 2, out + n);
                q += 2;

            } else {
                q++;
            }
        }

        p = strchr(p, '\n') + 1;
    }

    free(s);

    return n;
}


static void
test_classic_vectors(void)
{
    size_t                    i, n;
    u_char                    msg[1024];
    char                      channel[256];
    ngx_socketio_names_t      rooms, except;
    ngx_socketio_frame_t     *f;
    ngx_socketio_broadcast_t  bc;

    static struct {
        const char  *file;
        const char  *channel;
        const char  *uid;
        const char  *nsp;
        const char  *rooms;
        const char  *except;
        ngx_uint_t   flags;
        const char  *text;
        const char  *att[2];
    } cases[] = {
        { "redis-classic/01-io-emit.txt", "socket.io#/#", "BU-R_8", "/", "",
          "", NGX_SOCKETIO_FLAG_COMPRESS,
          "42[\"hello\",\"world\",1,{\"a\":true}]", { NULL } },
        { "redis-classic/02-to-room.txt", "socket.io#/#room#", "BU-R_8", "/",
          "room", "", NGX_SOCKETIO_FLAG_COMPRESS,
          "42[\"ev\",\"x\"]", { NULL } },
        { "redis-classic/03-to-multi-except.txt", "socket.io#/#", "BU-R_8",
          "/", "a,b", "c", NGX_SOCKETIO_FLAG_COMPRESS,
          "42[\"ev2\",42]", { NULL } },
        { "redis-classic/04-volatile.txt", "socket.io#/#", "BU-R_8", "/", "",
          "", NGX_SOCKETIO_FLAG_VOLATILE|NGX_SOCKETIO_FLAG_COMPRESS,
          "42[\"vol\",1]", { NULL } },
        { "redis-classic/05-compress-false.txt", "socket.io#/#", "BU-R_8",
          "/", "", "", 0, "42[\"nocomp\",1]", { NULL } },
        { "redis-classic/07-binary.txt", "socket.io#/#", "BU-R_8", "/", "",
          "", NGX_SOCKETIO_FLAG_COMPRESS,
          "452-[\"bin\",{\"_placeholder\":true,\"num\":0},"
          "{\"x\":{\"_placeholder\":true,\"num\":1}}]",
          { "010203", "0405" } },
        { "redis-classic/08-namespace-admin.txt", "socket.io#/admin#",
          "qZm8cB", "/admin", "", "", NGX_SOCKETIO_FLAG_COMPRESS,
          "42/admin,[\"adm\",1]", { NULL } },
        { "redis-classic/09-to-socket-id.txt",
          "socket.io#/#bPtL8__cNyxqHcNiAAAB#", "BU-R_8", "/",
          "bPtL8__cNyxqHcNiAAAB", "", NGX_SOCKETIO_FLAG_COMPRESS,
          "42[\"direct\",\"hi\"]", { NULL } },
        { "redis-classic/20-emitter-emit.txt", "socket.io#/#", "emitter", "/",
          "", "", NGX_SOCKETIO_FLAG_COMPRESS,
          "42[\"fromEmitter\",1,\"two\"]", { NULL } },
        { "redis-classic/21-emitter-to-room.txt", "socket.io#/#room#",
          "emitter", "/", "room", "", NGX_SOCKETIO_FLAG_COMPRESS,
          "42[\"e2\",true]", { NULL } },
        { "redis-classic/22-emitter-to-multi-except.txt", "socket.io#/#",
          "emitter", "/", "a,b", "c", NGX_SOCKETIO_FLAG_COMPRESS,
          "42[\"e3\",null]", { NULL } },
        { "redis-classic/23-emitter-volatile-compress.txt", "socket.io#/#",
          "emitter", "/", "", "", NGX_SOCKETIO_FLAG_VOLATILE,
          "42[\"e4\",1.5]", { NULL } },
        { "redis-classic/24-emitter-binary.txt", "socket.io#/#", "emitter",
          "/", "", "", NGX_SOCKETIO_FLAG_COMPRESS,
          "451-[\"e5\",{\"_placeholder\":true,\"num\":0}]", { "dead" } },
        { "redis-classic/25-emitter-namespace.txt", "socket.io#/admin#",
          "emitter", "/admin", "", "", NGX_SOCKETIO_FLAG_COMPRESS,
          "42/admin,[\"e6\",\"adm\"]", { NULL } },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char   got_rooms[256], got_except[256], *p;
        size_t j;

        vector_arg(cases[i].file, 1, NULL, channel);
        n = vector_arg(cases[i].file, 2, msg, NULL);

        tap_ok(strcmp(channel, cases[i].channel) == 0,
               "%s: channel %s", cases[i].file, channel);

        if (ngx_socketio_codec_broadcast(msg, n, &bc) != NGX_OK) {
            tap_ok(0, "%s: decodes", cases[i].file);
            continue;
        }

        ngx_socketio_codec_names(&bc.rooms, bc.nrooms, &rooms);
        ngx_socketio_codec_names(&bc.except, bc.nexcept, &except);

        for (p = got_rooms, j = 0; j < rooms.n; j++) {
            p += sprintf(p, "%s%.*s", j ? "," : "", (int) rooms.names[j].len,
                         rooms.names[j].data);
        }
        *p = '\0';

        for (p = got_except, j = 0; j < except.n; j++) {
            p += sprintf(p, "%s%.*s", j ? "," : "", (int) except.names[j].len,
                         except.names[j].data);
        }
        *p = '\0';

        tap_ok(bc.uid.len == strlen(cases[i].uid)
               && memcmp(bc.uid.data, cases[i].uid, bc.uid.len) == 0
               && bc.nsp.len == strlen(cases[i].nsp)
               && memcmp(bc.nsp.data, cases[i].nsp, bc.nsp.len) == 0
               && bc.type == NGX_SOCKETIO_EVENT
               && bc.id == NGX_SOCKETIO_NO_ID
               && strcmp(got_rooms, cases[i].rooms) == 0
               && strcmp(got_except, cases[i].except) == 0
               && bc.flags == cases[i].flags,
               "%s: uid, nsp, rooms [%s], except [%s], flags", cases[i].file,
               got_rooms, got_except);

        f = ngx_socketio_codec_frame(&bc.data, bc.type, &bc.nsp, bc.id);

        tap_ok(f != NULL
               && check_frames(f, cases[i].text, strlen(cases[i].text),
                               (char **) cases[i].att,
                               cases[i].att[0] ? (cases[i].att[1] ? 2 : 1)
                                               : 0),
               "%s: delivered as %s", cases[i].file, cases[i].text);

        if (f) {
            ngx_socketio_frame_release(f);
        }

        ngx_socketio_codec_names_free(&rooms);
        ngx_socketio_codec_names_free(&except);
    }
}


/* WebSocket frames */

static size_t
mask_frame(u_char *out, u_char b0, const char *payload, size_t len,
    const u_char key[4], int masked)
{
    size_t  i, n;

    out[0] = b0;
    n = 1;

    if (len < 126) {
        out[n++] = (u_char) ((masked ? 0x80 : 0) | len);

    } else if (len <= 0xffff) {
        out[n++] = (u_char) ((masked ? 0x80 : 0) | 126);
        out[n++] = (u_char) (len >> 8);
        out[n++] = (u_char) len;

    } else {
        out[n++] = (u_char) ((masked ? 0x80 : 0) | 127);
        for (i = 0; i < 8; i++) {
            out[n++] = (u_char) ((uint64_t) len >> (56 - 8 * i));
        }
    }

    if (masked) {
        memcpy(out + n, key, 4);
        n += 4;
    }

    for (i = 0; i < len; i++) {
        out[n + i] = (u_char) payload[i] ^ (masked ? key[i & 3] : 0);
    }

    return n + len;
}


static void
test_ws(void)
{
    u_char                   buf[70100], hdr[16];
    size_t                   n, i;
    ngx_uint_t               code;
    ngx_socketio_ws_frame_t  f;
    static char              big[70000];

    /* the captured client frame: 40{"token":"x"} with mask f136fa71 */

    static const u_char  key[4] = { 0xf1, 0x36, 0xfa, 0x71 };

    n = mask_frame(buf, 0x81, "40{\"token\":\"x\"}", 15, key, 1);

    tap_ok(buf[0] == 0x81 && buf[1] == 0x8f && memcmp(buf + 2, key, 4) == 0,
           "ws: header 818ff136fa71 as captured");

    tap_ok(ngx_socketio_ws_parse_header(buf, 1, 1000, &f, &code) == NGX_AGAIN
           && ngx_socketio_ws_parse_header(buf, 5, 1000, &f, &code)
              == NGX_AGAIN,
           "ws: a partial header asks for more");

    tap_ok(ngx_socketio_ws_parse_header(buf, n, 1000, &f, &code) == NGX_OK
           && f.fin && f.opcode == NGX_SOCKETIO_WS_TEXT && f.header_len == 6
           && f.payload_len == 15,
           "ws: text frame header parsed");

    ngx_socketio_ws_unmask(buf + 6, 15, f.mask, 0);
    tap_ok(memcmp(buf + 6, "40{\"token\":\"x\"}", 15) == 0, "ws: unmasked");

    /* unmasking in pieces, at any offset */

    memset(big, 'a', sizeof(big));
    n = mask_frame(buf, 0x82, big, 70000, key, 1);

    tap_ok(ngx_socketio_ws_parse_header(buf, n, 1000000, &f, &code) == NGX_OK
           && f.header_len == 14 && f.payload_len == 70000,
           "ws: 64-bit length");

    ngx_socketio_ws_unmask(buf + 14, 7, f.mask, 0);
    ngx_socketio_ws_unmask(buf + 14 + 7, 1001, f.mask, 7);
    ngx_socketio_ws_unmask(buf + 14 + 1008, 70000 - 1008, f.mask, 1008);
    tap_ok(memcmp(buf + 14, big, 70000) == 0, "ws: unmasked in pieces");

    n = mask_frame(buf, 0x81, big, 300, key, 1);
    tap_ok(ngx_socketio_ws_parse_header(buf, n, 1000, &f, &code) == NGX_OK
           && f.header_len == 8 && f.payload_len == 300,
           "ws: 16-bit length");

    /* errors */

    n = mask_frame(buf, 0x81, "x", 1, key, 0);
    tap_ok(ngx_socketio_ws_parse_header(buf, n, 1000, &f, &code) == NGX_ERROR
           && code == 1002, "ws: unmasked client frame is 1002");

    n = mask_frame(buf, 0xc1, "x", 1, key, 1);
    tap_ok(ngx_socketio_ws_parse_header(buf, n, 1000, &f, &code) == NGX_ERROR
           && code == 1002, "ws: RSV1 without extension is 1002");

    n = mask_frame(buf, 0x83, "x", 1, key, 1);
    tap_ok(ngx_socketio_ws_parse_header(buf, n, 1000, &f, &code) == NGX_ERROR
           && code == 1002, "ws: reserved opcode is 1002");

    n = mask_frame(buf, 0x09, "x", 1, key, 1);
    tap_ok(ngx_socketio_ws_parse_header(buf, n, 1000, &f, &code) == NGX_ERROR
           && code == 1002, "ws: fragmented ping is 1002");

    n = mask_frame(buf, 0x89, big, 126, key, 1);
    tap_ok(ngx_socketio_ws_parse_header(buf, n, 1000, &f, &code) == NGX_ERROR
           && code == 1002, "ws: 126-byte ping is 1002");

    n = mask_frame(buf, 0x81, big, 20012, key, 1);
    tap_ok(ngx_socketio_ws_parse_header(buf, n, 10000, &f, &code) == NGX_ERROR
           && code == 1009, "ws: frame over max payload is 1009");

    memcpy(hdr, "\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04",
           14);
    tap_ok(ngx_socketio_ws_parse_header(hdr, 14, (uint64_t) -1, &f, &code)
           == NGX_ERROR && code == 1002,
           "ws: 64-bit length with the top bit set is 1002");

    /* server headers */

    static struct {
        uint64_t     len;
        const char  *hex;
    } headers[] = {
        { 0, "8100" }, { 105, "8169" }, { 125, "817d" }, { 126, "817e007e" },
        { 65535, "817effff" }, { 65536, "817f0000000000010000" },
    };

    for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        u_char  want[16];
        size_t  wl, hl;

        wl = hex_decode(headers[i].hex, strlen(headers[i].hex), want);
        hl = ngx_socketio_ws_header(hdr, NGX_SOCKETIO_WS_TEXT, headers[i].len);

        tap_ok(hl == wl && memcmp(hdr, want, wl) == 0
               && ngx_socketio_ws_header_len(headers[i].len) == hl,
               "ws: server header for %llu bytes is %s",
               (unsigned long long) headers[i].len, headers[i].hex);
    }

    /* close payloads */

    tap_ok(ngx_socketio_ws_check_close((u_char *) "", 0, &code) == NGX_OK,
           "ws: empty close is fine");
    tap_ok(ngx_socketio_ws_check_close((u_char *) "\x03", 1, &code)
           == NGX_ERROR && code == 1002, "ws: 1-byte close is 1002");
    tap_ok(ngx_socketio_ws_check_close((u_char *) "\x03\xe8ok", 4, &code)
           == NGX_OK, "ws: 1000 with a reason is fine");
    tap_ok(ngx_socketio_ws_check_close((u_char *) "\x03\xed", 2, &code)
           == NGX_ERROR && code == 1002, "ws: 1005 may not be sent");
    tap_ok(ngx_socketio_ws_check_close((u_char *) "\x03\xe8\xff", 3, &code)
           == NGX_ERROR && code == 1007, "ws: bad UTF-8 reason is 1007");
}


/* the socket.io-parser decode table */

static void
test_parser_table(void)
{
    char                   *s, *line, *next, *arrow, *rhs;
    json_t                 *in, *want, *data, *wdata;
    size_t                  count;
    ngx_int_t               rc;
    ngx_socketio_packet_t   pkt;

    /*
     * where the C node is deliberately stricter than socket.io-parser
     * (PROTOCOL 2.3: "SHOULD treat as invalid" / "SHOULD reject"), or
     * where the server closes anyway (a client's CONNECT_ERROR)
     */

    static const char  *stricter[] = {
        "\"\"", "\"2 [\\\"x\\\"]\"", "\"2\"", "\"3\"", "\"2/chat\"",
        "\"4{\\\"message\\\":\\\"m\\\"}\"", "\"4\\\"str\\\"\"", NULL
    };

    s = read_file("codec/socketio-parser-table.txt", NULL);
    count = 0;

    for (line = s; *line; line = next) {
        const char  **st;
        int           strict;

        next = strchr(line, '\n');
        if (next == NULL) {
            break;
        }

        *next++ = '\0';

        if (line[0] != '"') {
            continue;
        }

        arrow = strstr(line, " => ");
        if (arrow == NULL) {
            continue;
        }

        *arrow = '\0';
        rhs = arrow + 4;

        while (arrow > line && arrow[-1] == ' ') {
            *--arrow = '\0';
        }

        in = json_loads(line, JSON_DECODE_ANY, NULL);
        if (!json_is_string(in)) {
            json_decref(in);
            continue;
        }

        strict = 0;
        for (st = stricter; *st; st++) {
            if (strcmp(*st, line) == 0) {
                strict = 1;
            }
        }

        data = NULL;
        rc = ngx_socketio_packet_parse((u_char *) json_string_value(in),
                                       json_string_length(in), &pkt);
        if (rc == NGX_OK) {
            rc = ngx_socketio_packet_check(&pkt, &data);
        }

        if (strncmp(rhs, "ERROR", 5) == 0 || strict) {
            tap_ok(rc == NGX_ERROR, "parser: %s refused%s", line,
                   strict ? " (stricter than socket.io-parser)" : "");

        } else {
            const char  *hdr;
            json_t      *jt, *jn, *jid, *ja;

            hdr = strstr(rhs, "header=");
            want = json_loads(hdr ? hdr + 7 : rhs, JSON_DECODE_INT_AS_REAL,
                              NULL);

            jt = json_object_get(want, "type");
            jn = json_object_get(want, "nsp");
            jid = json_object_get(want, "id");
            ja = json_object_get(want, "attachments");
            wdata = json_object_get(want, "data");

            tap_ok(rc == NGX_OK
                   && (ja ? pkt.attachments == (ngx_uint_t)
                                               json_number_value(ja)
                          : pkt.type == (ngx_uint_t) json_number_value(jt))
                   && pkt.nsp.len == json_string_length(jn)
                   && memcmp(pkt.nsp.data, json_string_value(jn), pkt.nsp.len)
                      == 0
                   && (jid ? pkt.id == (uint64_t) json_number_value(jid)
                           : pkt.id == NGX_SOCKETIO_NO_ID)
                   && (wdata ? (data && json_equal(data, wdata))
                             : data == NULL),
                   "parser: %s => %s", line, rhs);

            json_decref(want);
        }

        json_decref(data);
        json_decref(in);
        count++;
    }

    tap_ok(count >= 55, "parser: %zu cases read", count);

    free(s);
}


/* encoder output of the same table */

static void
test_packet_encode(void)
{
    char                 *s;
    ngx_str_t             root = ngx_string("/"), chat = ngx_string("/chat"),
                          x = ngx_string("/x"), msg, admin = ngx_string("/x");
    ngx_socketio_wbuf_t   b;

    ngx_socketio_wbuf_init(&b, 8);
    ngx_socketio_packet_connect(&b, &root, (u_char *) "AAAAAAAAAAAAAAAAAAAA");
    s = wbuf_cstr(&b);
    tap_ok(strcmp(s, "40{\"sid\":\"AAAAAAAAAAAAAAAAAAAA\"}") == 0,
           "encode: connect reply on /");
    ngx_socketio_wbuf_free(&b);

    ngx_socketio_wbuf_init(&b, 8);
    ngx_socketio_packet_connect(&b, &chat, (u_char *) "ur6KzAAdj2bHUT1WAAAC");
    s = wbuf_cstr(&b);
    tap_ok(strcmp(s, "40/chat,{\"sid\":\"ur6KzAAdj2bHUT1WAAAC\"}") == 0,
           "encode: connect reply on /chat");
    ngx_socketio_wbuf_free(&b);

    ngx_socketio_wbuf_init(&b, 8);
    ngx_socketio_packet_disconnect(&b, &root);
    ngx_socketio_packet_disconnect(&b, &chat);
    s = wbuf_cstr(&b);
    tap_ok(strcmp(s, "4141/chat,") == 0, "encode: disconnect");
    ngx_socketio_wbuf_free(&b);

    ngx_str_set(&msg, "Invalid namespace");
    ngx_socketio_wbuf_init(&b, 8);
    ngx_socketio_packet_connect_error(&b, &root, &msg);
    s = wbuf_cstr(&b);
    tap_ok(strcmp(s, "44{\"message\":\"Invalid namespace\"}") == 0,
           "encode: connect error");
    ngx_socketio_wbuf_free(&b);

    ngx_socketio_wbuf_init(&b, 8);
    ngx_socketio_packet_head(&b, NGX_SOCKETIO_ACK, 0, &x, 0);
    ngx_socketio_wbuf_str(&b, "[]");
    ngx_socketio_packet_head(&b, NGX_SOCKETIO_ACK, 0, &root, 42);
    ngx_socketio_wbuf_str(&b, "[\"r\"]");
    ngx_socketio_packet_head(&b, NGX_SOCKETIO_BINARY_EVENT, 2, &root, 7);
    ngx_socketio_packet_head(&b, NGX_SOCKETIO_BINARY_ACK, 1, &admin, 1);
    s = wbuf_cstr(&b);
    tap_ok(strcmp(s, "43/x,0[]4342[\"r\"]452-746/x,1-1") != 0
           && strcmp(s, "43/x,0[]4342[\"r\"]452-7461-/x,1") == 0,
           "encode: ack heads as socket.io-parser (%s)", s);
    ngx_socketio_wbuf_free(&b);

    ngx_socketio_wbuf_init(&b, 8);
    ngx_socketio_packet_open(&b, (u_char *) "mOtvK4J9AlxiXlRZAAAA", 25000,
                             20000, 1000000);
    s = wbuf_cstr(&b);
    tap_ok(strcmp(s, "0{\"sid\":\"mOtvK4J9AlxiXlRZAAAA\",\"upgrades\":[],"
                     "\"pingInterval\":25000,\"pingTimeout\":20000,"
                     "\"maxPayload\":1000000}") == 0,
           "encode: the open packet, byte for byte");
    ngx_socketio_wbuf_free(&b);
}


/*
 * Number room names as text: the longest ToString() is 25 bytes, and every
 * name keeps its own, in the inline scratch (16 names) and in the
 * allocated one (found by t/fuzz/fuzz_codec: a 24-byte slot per name).
 */

static void
test_names_long_numbers(void)
{
    size_t                 i, n;
    u_char                 msg[20 * 9];
    uint32_t               count[] = { 2, 16, 17, 20 };
    ngx_uint_t             j, ok;
    ngx_socketio_mp_t      mp;
    ngx_socketio_names_t   names;

    /* -1.2345678901234567e-6 as float64 */

    static const u_char  longest[9] = {
        0xcb, 0xbe, 0xb4, 0xb6, 0x6d, 0xc0, 0x1e, 0xc6, 0xfb
    };

    static const char  *text = "-0.0000012345678901234567";

    for (i = 0; i < sizeof(count) / sizeof(count[0]); i++) {

        /* count - 1 long numbers, then 112: written after the last one */

        for (n = 0; n + 1 < count[i]; n++) {
            memcpy(msg + n * 9, longest, 9);
        }

        msg[n * 9] = 0x70;

        mp.pos = msg;
        mp.end = msg + n * 9 + 1;

        if (ngx_socketio_codec_names(&mp, count[i], &names) != NGX_OK) {
            tap_ok(0, "names: %u numbers read", count[i]);
            continue;
        }

        ok = (names.n == count[i]);

        for (j = 0; ok && j + 1 < names.n; j++) {
            ok = (names.names[j].len == strlen(text)
                  && memcmp(names.names[j].data, text, strlen(text)) == 0);
        }

        ok = ok && names.names[names.n - 1].len == 3
             && memcmp(names.names[names.n - 1].data, "112", 3) == 0;

        tap_ok(ok, "names: %u numbers, each as ToString() writes it",
               count[i]);

        ngx_socketio_codec_names_free(&names);
    }
}


/*
 * NaN and the infinities as room names are String() of them, as map keys
 * are, not JSON's null: that is the name of another room.
 */

static void
test_names_not_finite(void)
{
    ngx_uint_t             ok;
    ngx_socketio_mp_t      mp;
    ngx_socketio_names_t   names;

    /* [NaN, Infinity, -Infinity (float32), "null"] */

    static const u_char  msg[] = {
        0xcb, 0x7f, 0xf8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0xcb, 0x7f, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0xca, 0xff, 0x80, 0x00, 0x00,
        0xa4, 'n', 'u', 'l', 'l'
    };

    mp.pos = msg;
    mp.end = msg + sizeof(msg);

    if (ngx_socketio_codec_names(&mp, 4, &names) != NGX_OK) {
        tap_ok(0, "names: NaN and infinities read");
        return;
    }

    ok = names.n == 4
         && names.names[0].len == 3
         && memcmp(names.names[0].data, "NaN", 3) == 0
         && names.names[1].len == 8
         && memcmp(names.names[1].data, "Infinity", 8) == 0
         && names.names[2].len == 9
         && memcmp(names.names[2].data, "-Infinity", 9) == 0
         && names.names[3].len == 4
         && memcmp(names.names[3].data, "null", 4) == 0;

    tap_ok(ok, "names: NaN, Infinity, -Infinity as String() writes them");

    ngx_socketio_codec_names_free(&names);
}


/* the classic adapter's msgpack request: BROADCAST with acks */

static void
test_classic_request(void)
{
    size_t                   n;
    u_char                   msg[4096];
    ngx_socketio_frame_t    *f;
    ngx_socketio_request_t   req;

    n = vector_arg("redis-classic/10-broadcast-with-ack.txt", 2, msg, NULL);

    tap_ok(ngx_socketio_codec_request(msg, n, &req) == NGX_OK
           && req.type == 7
           && req.request_id.len == 6
           && memcmp(req.request_id.data, "vNR_-r", 6) == 0
           && req.bc.uid.len == 6
           && memcmp(req.bc.uid.data, "BU-R_8", 6) == 0
           && req.bc.nrooms == 0 && req.bc.nexcept == 0
           && req.bc.timeout == 2000,
           "10-broadcast-with-ack: type 7, requestId, uid, rooms, timeout");

    f = ngx_socketio_codec_frame(&req.bc.data, req.bc.type, &req.bc.nsp, 3);

    tap_ok(f != NULL && check_frames(f, "423[\"ask\",\"q\"]", 14, NULL, 0),
           "10-broadcast-with-ack: delivered with the local ack id");

    if (f) {
        ngx_socketio_frame_release(f);
    }

    /* a request without its packet, and one that is not a map */

    tap_ok(ngx_socketio_codec_request((u_char *) "\x82\xa4type\x07"
                                      "\xa9requestId\xa1x", 16, &req)
           == NGX_ERROR, "a request without packet is refused");

    tap_ok(ngx_socketio_codec_request((u_char *) "\x91\x07", 2, &req)
           == NGX_ERROR, "a request that is not a map is refused");

    tap_ok(ngx_socketio_codec_request(msg, n - 1, &req) == NGX_ERROR,
           "a truncated request is refused");
}


int
main(int argc, char **argv)
{
    if (argc > 1) {
        vectors = argv[1];
    }

    test_utf8();
    test_json();
    test_msgpack_writer();
    test_msgpack_reader();
    test_codec_node();
    test_classic_vectors();
    test_classic_request();
    test_ws();
    test_parser_table();
    test_packet_encode();
    test_names_long_numbers();
    test_names_not_finite();

    return tap_done();
}
