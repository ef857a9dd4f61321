/*
 * simulated: imitates the three vendor sensors of the MQTT v5 user-property
 * example (a Xiaomi text/plain reading, a Huawei base64 one, a plain one), so
 * the daemon can be tried with no hardware:
 *
 *   xiaomi  "23.4"      Content-Type: text/plain, Hardware-Revision: Xiaomi-rev1.17c
 *   huawei  "MjMuNw=="  Content-Type: base64,     Hardware-Manufacturer: Huawei-rev8.2
 *   plain   "24.4"      no properties
 *
 * A polled plugin written in plain C: every interval it emits one reading per
 * configured device. Values take a small random walk unless values = "seed".
 *
 * Commands (ABI 3): "set" with {"value": 21.5} moves a device's value there
 * (the walk then stays near it) and answers {"value": 21.5}; "reset" brings
 * it back to the seed value. Anything else is answered "unsupported".
 */
#include <gatewayd/plugin.h>

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DEVICES 16

enum device_kind {
    DEVICE_XIAOMI,
    DEVICE_HUAWEI,
    DEVICE_PLAIN
};

struct device {
    enum device_kind kind;
    char name[257];
    double value;
    double target; /* the walk stays near it: the seed value, or the last "set" */
};

struct simulated {
    const gwd_host_api *host;
    gwd_context *ctx;
    struct device devices[MAX_DEVICES];
    size_t device_count;
    int64_t count; /* polls left; -1 = forever */
    int walk;      /* 0: always the seed values */
    unsigned long long rng;
    pthread_mutex_t lock; /* values: poll() and command() run on different threads */
};

/* Each default is written here once; README.md and simulated.toml are
 * tested against these specs (tests/unit/test_plugin_docs.cpp). */
static const gwd_option_spec options[] = {
    {"devices",
     GWD_OPTION_STRING_LIST,
     0,
     "which seed sensors to imitate, in order: \"xiaomi\", \"huawei\", \"plain\"",
     "[\"xiaomi\", \"huawei\", \"plain\"]",
     {0}},
    {"names", GWD_OPTION_STRING_LIST, 0, "reading names, one per device (default sensor01, sensor02, ...)", NULL, {0}},
    {"values", GWD_OPTION_STRING, 0, "\"walk\" or \"seed\" for the example's exact payloads", "\"walk\"", {0}},
    {"count", GWD_OPTION_INT, 0, "stop after this many polls (0: never)", "0", {0}},
    {"seed", GWD_OPTION_INT, 0, "random seed for the walk (default: from the clock)", NULL, {0}},
    {NULL, 0, 0, NULL, NULL, {0}},
};

/* Options with a declared default always have a value (plugin ABI 5). */
static int no_value(const gwd_host_api *host, gwd_context *ctx, const char *key)
{
    gwd_logf(host, ctx, GWD_LOG_ERROR, "option %s has no value, not even its default", key);
    return GWD_ERR_INVALID;
}

static double seed_value(enum device_kind kind)
{
    switch (kind) {
    case DEVICE_XIAOMI: return 23.4;
    case DEVICE_HUAWEI: return 23.7;
    default: return 24.4;
    }
}

/* xorshift64*: small, fast, and reproducible from the seed option. */
static double next_uniform(struct simulated *s)
{
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return (double)((s->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static int parse_kind(const char *text, enum device_kind *out)
{
    if (strcmp(text, "xiaomi") == 0)
        *out = DEVICE_XIAOMI;
    else if (strcmp(text, "huawei") == 0)
        *out = DEVICE_HUAWEI;
    else if (strcmp(text, "plain") == 0)
        *out = DEVICE_PLAIN;
    else
        return -1;
    return 0;
}

static int create(const gwd_host_api *host, gwd_context *ctx, void **instance)
{
    struct simulated *s = calloc(1, sizeof *s);
    if (s == NULL) return GWD_ERR_NO_MEMORY;
    s->host = host;
    s->ctx = ctx;

    size_t n = host->option_list_size(ctx, "devices");
    if (n == 0) {
        gwd_logf(host, ctx, GWD_LOG_ERROR, "devices is empty; list at least one of \"xiaomi\", \"huawei\", \"plain\"");
        free(s);
        return GWD_ERR_INVALID;
    } else if (n > MAX_DEVICES) {
        gwd_logf(host, ctx, GWD_LOG_ERROR, "devices lists %zu entries; at most %d are supported", n, MAX_DEVICES);
        free(s);
        return GWD_ERR_INVALID;
    } else {
        s->device_count = n;
        for (size_t i = 0; i < n; ++i) {
            const char *kind = NULL;
            host->option_list_string(ctx, "devices", i, &kind);
            if (parse_kind(kind, &s->devices[i].kind) != 0) {
                gwd_logf(host, ctx, GWD_LOG_ERROR,
                         "devices[%zu] = \"%s\" is not one of \"xiaomi\", \"huawei\", \"plain\"", i, kind);
                free(s);
                return GWD_ERR_INVALID;
            }
        }
    }

    size_t names = host->option_list_size(ctx, "names");
    if (names != 0 && names != s->device_count) {
        gwd_logf(host, ctx, GWD_LOG_ERROR, "names has %zu entries but devices has %zu; give one name per device", names,
                 s->device_count);
        free(s);
        return GWD_ERR_INVALID;
    }
    for (size_t i = 0; i < s->device_count; ++i) {
        const char *name = NULL;
        if (names != 0) {
            host->option_list_string(ctx, "names", i, &name);
            if (strlen(name) == 0 || strlen(name) > 256) {
                gwd_logf(host, ctx, GWD_LOG_ERROR, "names[%zu] must be 1 to 256 bytes long", i);
                free(s);
                return GWD_ERR_INVALID;
            }
            strcpy(s->devices[i].name, name);
        } else {
            snprintf(s->devices[i].name, sizeof s->devices[i].name, "sensor%02zu", i + 1);
        }
        s->devices[i].value = seed_value(s->devices[i].kind);
        s->devices[i].target = s->devices[i].value;
    }

    const char *values = NULL;
    if (host->option_string(ctx, "values", &values) != GWD_OK) {
        free(s);
        return no_value(host, ctx, "values");
    }
    if (strcmp(values, "walk") == 0) {
        s->walk = 1;
    } else if (strcmp(values, "seed") == 0) {
        s->walk = 0;
    } else {
        gwd_logf(host, ctx, GWD_LOG_ERROR, "values = \"%s\" must be \"walk\" or \"seed\"", values);
        free(s);
        return GWD_ERR_INVALID;
    }

    int64_t count = 0;
    if (host->option_int(ctx, "count", &count) != GWD_OK) {
        free(s);
        return no_value(host, ctx, "count");
    }
    if (count < 0) {
        gwd_logf(host, ctx, GWD_LOG_ERROR, "count must not be negative");
        free(s);
        return GWD_ERR_INVALID;
    }
    s->count = count == 0 ? -1 : count;

    int64_t seed = 0;
    if (host->option_int(ctx, "seed", &seed) != GWD_OK) seed = (int64_t)time(NULL);
    s->rng = (unsigned long long)seed * 0x9E3779B97F4A7C15ULL + 1;

    pthread_mutex_init(&s->lock, NULL);
    *instance = s;
    return GWD_OK;
}

static void encode_base64(const char *in, size_t len, char *out)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < len) v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < len) v |= (unsigned char)in[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
    }
    out[o] = '\0';
}

static int poll_once(void *instance)
{
    struct simulated *s = instance;
    if (s->count == 0) return GWD_OK;
    if (s->count > 0) --s->count;

    for (size_t i = 0; i < s->device_count; ++i) {
        struct device *d = &s->devices[i];
        pthread_mutex_lock(&s->lock);
        if (s->walk) {
            d->value += (next_uniform(s) - 0.5) * 0.2;
            /* Stay near the target, like a room temperature near its setpoint. */
            d->value += (d->target - d->value) * 0.05;
        }
        const double value = d->value;
        pthread_mutex_unlock(&s->lock);
        char text[32];
        snprintf(text, sizeof text, "%.1f", round(value * 10.0) / 10.0);

        char encoded[48];
        gwd_property props[2];
        gwd_reading reading;
        memset(&reading, 0, sizeof reading);
        reading.sensor = d->name;
        reading.payload = text;
        reading.payload_len = strlen(text);
        switch (d->kind) {
        case DEVICE_XIAOMI:
            props[0] = (gwd_property){"Content-Type", "text/plain"};
            props[1] = (gwd_property){"Hardware-Revision", "Xiaomi-rev1.17c"};
            reading.properties = props;
            reading.property_count = 2;
            break;
        case DEVICE_HUAWEI:
            encode_base64(text, strlen(text), encoded);
            reading.payload = encoded;
            reading.payload_len = strlen(encoded);
            props[0] = (gwd_property){"Content-Type", "base64"};
            props[1] = (gwd_property){"Hardware-Manufacturer", "Huawei-rev8.2"};
            reading.properties = props;
            reading.property_count = 2;
            break;
        case DEVICE_PLAIN: break;
        }
        int rc = s->host->emit(s->ctx, &reading);
        if (rc != GWD_OK && rc != GWD_ERR_STOPPED) return rc;
    }
    return GWD_OK;
}

/* The number after "value": in the host's {"value": <JSON value>}; a
 * numeric string is accepted too. */
static int parse_value(const char *params, double *out)
{
    const char *at = strstr(params, "\"value\"");
    if (at == NULL) return -1;
    at = strchr(at + 7, ':');
    if (at == NULL) return -1;
    ++at;
    while (*at == ' ')
        ++at;
    if (*at == '"') ++at;
    char *end = NULL;
    double v = strtod(at, &end);
    if (end == at || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static int command(void *instance, const gwd_command *cmd, gwd_command_reply *reply)
{
    struct simulated *s = instance;
    struct device *d = NULL;
    for (size_t i = 0; i < s->device_count; ++i) {
        if (strcmp(s->devices[i].name, cmd->sensor) == 0) d = &s->devices[i];
    }
    if (d == NULL) {
        snprintf(reply->message, reply->message_capacity, "no simulated device is named '%s'", cmd->sensor);
        return GWD_ERR_UNSUPPORTED;
    }
    double value;
    if (strcmp(cmd->name, "set") == 0) {
        if (parse_value(cmd->params, &value) != 0) {
            snprintf(reply->message, reply->message_capacity, "set needs a number: {\"value\": 21.5}");
            return GWD_ERR_INVALID;
        }
    } else if (strcmp(cmd->name, "reset") == 0) {
        value = seed_value(d->kind);
    } else {
        snprintf(reply->message, reply->message_capacity,
                 "simulated sensors take the commands \"set\" and \"reset\", not \"%s\"", cmd->name);
        return GWD_ERR_UNSUPPORTED;
    }
    pthread_mutex_lock(&s->lock);
    d->value = value;
    d->target = value;
    pthread_mutex_unlock(&s->lock);
    snprintf(reply->result, reply->result_capacity, "{\"value\":%.1f}", round(value * 10.0) / 10.0);
    gwd_logf(s->host, s->ctx, GWD_LOG_INFO, "%s: %s to %.1f", cmd->sensor, cmd->name, value);
    return GWD_OK;
}

static void destroy(void *instance)
{
    struct simulated *s = instance;
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static const gwd_plugin descriptor = {
    .abi_version = GWD_PLUGIN_ABI_VERSION,
    .flags = GWD_PLUGIN_POLLED,
    .name = "simulated",
    .version = "1.1.0",
    .description = "imitates three vendor sensors (Xiaomi text, Huawei base64, plain)",
    .options = options,
    .create = create,
    .poll = poll_once,
    .destroy = destroy,
    .command = command,
};

GWD_PLUGIN_EXPORT const gwd_plugin *gwd_plugin_entry(void)
{
    return &descriptor;
}
