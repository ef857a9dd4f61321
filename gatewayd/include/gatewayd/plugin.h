/*
 * gatewayd sensor plugin ABI.
 *
 * A sensor plugin is a shared object in the daemon's plugin_dir, named
 * <plugin>.so. It exports exactly one symbol, GWD_PLUGIN_ENTRY_SYMBOL, a
 * function returning a pointer to a static gwd_plugin descriptor. The host
 * checks the descriptor's ABI version before it calls anything else and
 * refuses a mismatch with a clear message; the daemon keeps running.
 *
 * Lifecycle of one [[sensor]] instance (one plugin may serve many):
 *
 *   create(host, ctx, &instance)  read options, allocate; no threads yet
 *   start(instance)               push plugins start their threads here
 *   poll(instance)                polled plugins: called every `interval`
 *   stop(instance)                stop threads; emit() is refused after it returns
 *   destroy(instance)             free everything
 *
 * Stored readings (ABI 2): a plugin whose source can send a reading again
 * (an MQTT broker with a persistent session, a serial protocol with acks)
 * sets gwd_reading.ack_context and implements gwd_plugin.stored. For every
 * emit() that returned GWD_OK with a non-NULL ack_context, the host calls
 * stored(instance, ack_context, status) exactly once, from a host thread
 * (never from inside emit()), as soon as the reading is written to the
 * durable queue of every upstream it goes to (or already delivered):
 * status GWD_OK, and a crash of gatewayd can no longer lose it. Status
 * GWD_ERR_DROPPED says its fate is decided otherwise (dropped by a full
 * queue, expired, or no upstream takes it); either way the plugin may now
 * let go of it, e.g. acknowledge it to its source. stored() may still be
 * called while stop() runs, so stop() can wait for outstanding readings;
 * it is never called after stop() returns.
 *
 * Commands (ABI 3): a plugin that can act on its sensors (set a value, run
 * a calibration) implements gwd_plugin.command. The cloud profiles turn a
 * platform command (a Huawei IoTDA command or property set, a OneNET property
 * set or service invocation, an AWS shadow delta or MQTT v5 request) into one
 * gwd_command for the plugin whose [[sensor]] owns the target sensor, and
 * the answer into the platform's response. command() is called from the
 * host's command thread, one call at a time per instance, only between
 * start() and stop(); keep it short (the platforms time out after ~20 s).
 * Without a command handler every command for the plugin is answered
 * "unsupported"; the platform always gets an answer.
 *
 * Problems (ABI 4): a plugin that cannot do its job for now (its broker
 * refuses it, its device does not answer) says so with host->set_problem(),
 * and clears it when things work again; status shows the sensor as
 * "degraded" with that sentence instead of "running".
 *
 * Option defaults (ABI 5): each gwd_option_spec may carry its default as
 * the TOML value a user would write ("1883", "\"30s\"", "true",
 * "[\"a\", \"b\"]"). The host checks it against the option's type when it
 * loads the plugin, and option_*() return it when [sensor.options] leaves
 * the option out, so the default is written once: in the spec, which the
 * plugin's README and sample config are tested against. A plugin built for
 * ABI 1 to 4 keeps its shorter gwd_option_spec; the host reads each layout.
 *
 * Tables of options (ABI 6): an option of type GWD_OPTION_TABLE_LIST is
 * an array of tables ([[sensor.options.devices]], or devices = [{...}]). The
 * keys its tables may hold are declared in the same spec list, after it,
 * named "<list>[].<key>" ("devices[].unit_id"; nested:
 * "devices[].registers[].address"), and the host checks them like top-level
 * ones (names, types, required, defaults). A key reaches into one table with
 * its index: option_list_size(ctx, "devices") counts them,
 * option_int(ctx, "devices.0.unit_id", &v) reads one member, and a member
 * left out returns its declared default.
 *
 * Checking (ABI 6): `gatewayd --check-config` calls create() and destroy()
 * (never start()) of every sensor whose plugin is built for ABI 6 or later,
 * so the plugin refuses what its specs cannot say (two readings of one name,
 * a register that does not fit) before the daemon runs. create() must
 * therefore only read and check its options: no devices opened, no threads.
 * An error logged by create() that starts with an option key and ": "
 * ("devices.1.registers.0.order: ...") is shown at that option's line.
 *
 * Counters (ABI 6): host->set_counter() publishes a number of the plugin's
 * own ("meter.voltage errors"), shown under the sensor in `gatewayd status`.
 *
 * Threading: create/start/stop/destroy of one instance are never called
 * concurrently, but each may come from a different host thread. poll() is
 * called from the instance's own poll thread, never concurrently with
 * itself, and never once stop() has been called. emit(), log() and
 * set_problem() are thread-safe and may be called from any thread between
 * start() and the return of stop().
 *
 * Containment: the host waits for no call into a plugin without a bound
 * ([gateway] plugin_timeout; the stop deadline at shutdown). A call that
 * does not return in time leaves the instance "stuck"; if it must stop, it
 * is abandoned: never called, destroyed or unloaded again. A fatal signal in
 * plugin code is reported with the sensor's name, and a sensor that crashes
 * gatewayd twice within a minute stays disabled at the next start.
 *
 * Growth: every struct carries reserved fields that must be zero/NULL. A later
 * ABI revision gives them meaning; a plugin built against an older revision
 * leaves them zero and keeps working. The host checks this: it refuses a
 * descriptor or option spec with a reserved field set, and emit() refuses a
 * reading with one set (initialize readings with {0} in C, {} in C++). Build plugins with -fvisibility=hidden
 * and, for C++, -fno-gnu-unique, or a replaced plugin is never unloaded.
 */
#ifndef GATEWAYD_PLUGIN_H
#define GATEWAYD_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI revision this header describes. The host accepts plugins built for
 * revisions GWD_PLUGIN_ABI_MIN_VERSION .. GWD_PLUGIN_ABI_VERSION. */
#define GWD_PLUGIN_ABI_VERSION     6u
#define GWD_PLUGIN_ABI_MIN_VERSION 1u

#define GWD_PLUGIN_ENTRY_SYMBOL "gwd_plugin_entry"

#if defined(__GNUC__)
#define GWD_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define GWD_PLUGIN_EXPORT
#endif

/* Status codes returned across the ABI. */
enum gwd_status {
    GWD_OK = 0,
    GWD_ERR_NOT_FOUND = -1, /* option absent */
    GWD_ERR_INVALID = -2,   /* malformed reading or argument; see the log */
    GWD_ERR_STOPPED = -3,   /* instance not running; reading not accepted */
    GWD_ERR_NO_MEMORY = -4,
    GWD_ERR_FAILED = -5,     /* anything else; the plugin logged why */
    GWD_ERR_DROPPED = -6,    /* stored(): the reading was not queued for good (see above) */
    GWD_ERR_UNSUPPORTED = -7 /* command(): no such command, or not for this sensor */
};

/* Log levels, numbered as syslog priorities. */
enum gwd_log_level {
    GWD_LOG_ERROR = 3,
    GWD_LOG_WARNING = 4,
    GWD_LOG_NOTICE = 5,
    GWD_LOG_INFO = 6,
    GWD_LOG_DEBUG = 7
};

/* One MQTT v5 style user property: NUL-terminated UTF-8 key and value. */
typedef struct gwd_property {
    const char *key;
    const char *value;
} gwd_property;

/* One reading as a plugin hands it to emit(). The host copies everything it
 * needs before emit() returns: the plugin may reuse its buffers at once. */
typedef struct gwd_reading {
    /* Required. Names the reading; becomes {sensor} in topic templates. UTF-8,
     * at most 256 bytes, no '+', '#' or control characters. */
    const char *sensor;
    /* Unix time in milliseconds when the value was measured; 0 means now. */
    int64_t timestamp_ms;
    /* The value as the sensor produced it; may be encoded (base64, hex). */
    const void *payload;
    size_t payload_len;
    /* Optional content type as the source declared it (e.g. the MQTT v5
     * Content Type property); NULL when the source declared none. */
    const char *content_type;
    /* Ordered user properties; duplicates are allowed and kept in order. */
    const gwd_property *properties;
    size_t property_count;
    /* ABI 2. Handed back to the plugin's stored() callback once the reading
     * is safely queued; NULL: no callback for this reading. */
    void *ack_context;
    /* ABI 2. Seconds the reading is worth delivering, counted from emit()
     * (e.g. what is left of an MQTT v5 Message Expiry Interval); 0: no
     * expiry of its own. Pointer-sized so the struct keeps its ABI 1 size. */
    uintptr_t message_expiry_s;
    /* Must be zero. */
    void *reserved[6];
} gwd_reading;

/* ABI 3. One command for a plugin (see "Commands" above). Strings are
 * NUL-terminated UTF-8, valid during the command() call. */
typedef struct gwd_command {
    /* The reading name the command is about ({sensor}). */
    const char *sensor;
    /* "set" for new values (a property set, a shadow's desired state), with
     * params {"value": <JSON value>}; otherwise the platform's command or
     * service name, with its parameters as the platform sent them. */
    const char *name;
    /* A JSON object; "{}" when the platform sent no parameters. */
    const char *params;
    size_t params_len;
    void *reserved[4];
} gwd_command;

/* Where command() writes its answer: optionally a JSON object in `result`
 * (for "set", {"value": <applied value>} lets the platform see what was
 * applied), and, on failure, one sentence in `message`. Both buffers are the
 * host's; write at most capacity bytes including the NUL. */
typedef struct gwd_command_reply {
    char *result;
    size_t result_capacity;
    char *message;
    size_t message_capacity;
    void *reserved[4];
} gwd_command_reply;

/* Opaque handle of one sensor instance inside the host. */
typedef struct gwd_context gwd_context;

/* What the host offers a plugin. Valid from create() until destroy() returns. */
typedef struct gwd_host_api {
    uint32_t abi_version; /* the host's GWD_PLUGIN_ABI_VERSION */
    uint32_t reserved0;

    /* The [[sensor]] name of this instance, and the gateway id. */
    const char *(*sensor_name)(const gwd_context *ctx);
    const char *(*gateway_id)(const gwd_context *ctx);
    /* The instance's poll interval in milliseconds ([[sensor]] interval). */
    int64_t (*interval_ms)(const gwd_context *ctx);

    /* Writes one log line attributed to this sensor. Thread-safe. */
    void (*log)(const gwd_context *ctx, int level, const char *message);

    /* Hands one reading to the daemon. Thread-safe. Returns GWD_OK when the
     * reading was accepted, GWD_ERR_INVALID when it is malformed or larger
     * than the gateway's max_reading_size (logged, counted, nothing else
     * lost; sending it again would not help), GWD_ERR_NO_MEMORY when memory
     * ran out while taking it (counted; it may be sent again later),
     * GWD_ERR_STOPPED outside start..stop. Never throws. */
    int (*emit)(gwd_context *ctx, const gwd_reading *reading);

    /* The [sensor.options] table. Keys may be dotted ("tls.ca_file") and, from
     * ABI 6, index table lists ("devices.0.registers.2.address"). The host
     * has already checked every key against the plugin's option specs, so a
     * declared option has the declared type. Strings stay valid until
     * destroy(). Each returns GWD_OK or GWD_ERR_NOT_FOUND. */
    int (*option_string)(const gwd_context *ctx, const char *key, const char **out);
    int (*option_int)(const gwd_context *ctx, const char *key, int64_t *out);
    int (*option_float)(const gwd_context *ctx, const char *key, double *out);
    int (*option_bool)(const gwd_context *ctx, const char *key, int *out);
    int (*option_duration_ms)(const gwd_context *ctx, const char *key, int64_t *out);
    /* Lists: the number of elements (0 when absent), of a string list or
     * (ABI 6) a table list, and element i of a string list. */
    size_t (*option_list_size)(const gwd_context *ctx, const char *key);
    int (*option_list_string)(const gwd_context *ctx, const char *key, size_t index, const char **out);

    /* ABI 4 (NULL in older hosts: check abi_version >= 4). What keeps the
     * instance from doing its job right now, as one sentence ("cannot
     * connect to tcp://127.0.0.1:1883: connection refused"), or NULL / ""
     * once nothing does. Shown in status; the plugin logs it itself.
     * Thread-safe. */
    void (*set_problem)(const gwd_context *ctx, const char *problem);

    /* ABI 6 (NULL in older hosts). Sets the plugin's counter `name` (UTF-8,
     * at most 128 bytes) to `value`; status lists them by name, in the order
     * first set, at most 1,000 per sensor. Thread-safe. */
    void (*set_counter)(const gwd_context *ctx, const char *name, uint64_t value);

    void *reserved[14];
} gwd_host_api;

/* Types of plugin options, checked by the host against [sensor.options]. */
enum gwd_option_type {
    GWD_OPTION_STRING = 1,
    GWD_OPTION_INT = 2,
    GWD_OPTION_FLOAT = 3, /* an integer is accepted too */
    GWD_OPTION_BOOL = 4,
    GWD_OPTION_DURATION = 5, /* a string with a unit: "250ms", "5s", "1h" */
    GWD_OPTION_STRING_LIST = 6,
    GWD_OPTION_TABLE_LIST = 7 /* ABI 6: an array of tables; see "Tables of options" */
};

/* One option a plugin understands. Keys not declared are refused by the host
 * with the nearest declared name, before create() is called. */
typedef struct gwd_option_spec {
    const char *name; /* NULL terminates the list */
    int type;         /* enum gwd_option_type */
    int required;     /* non-zero: the host refuses the sensor without it */
    const char *help; /* one short sentence for error messages */
    /* ABI 5. The default as a TOML value ("5", "\"walk\"", "\"30s\"", "true",
     * "[\"x\"]"), returned by option_*() when the option is not set; NULL when
     * there is none or it is computed (then say so in help). A required
     * option has no default. */
    const char *default_value;
    /* ABI 5. Must be NULL. */
    void *reserved[3];
} gwd_option_spec;

/* Plugin flags. */
#define GWD_PLUGIN_POLLED 0x1u /* the host calls poll() every interval */

typedef struct gwd_plugin {
    uint32_t abi_version; /* GWD_PLUGIN_ABI_VERSION the plugin was built with */
    uint32_t flags;       /* GWD_PLUGIN_* */
    const char *name;     /* should equal the file name without .so */
    const char *version;
    const char *description;
    const gwd_option_spec *options; /* NULL-terminated, or NULL for none */

    /* Required. Reads options through host, sets *instance. Returns GWD_OK,
     * or an error after logging one sentence that says what is wrong. */
    int (*create)(const gwd_host_api *host, gwd_context *ctx, void **instance);
    /* Optional. Starts threads of push plugins. */
    int (*start)(void *instance);
    /* Required when GWD_PLUGIN_POLLED. Emits readings; returns GWD_OK or an
     * error (logged by the plugin) that the host counts. */
    int (*poll)(void *instance);
    /* Optional. Stops threads; the host refuses emit() once it returns. */
    void (*stop)(void *instance);
    /* Required. Frees the instance. */
    void (*destroy)(void *instance);

    /* ABI 2, optional. A reading emitted with an ack_context is stored (or
     * its fate decided); see "Stored readings" above. */
    void (*stored)(void *instance, void *ack_context, int status);

    /* ABI 3, optional. Acts on one command; returns GWD_OK when done,
     * GWD_ERR_UNSUPPORTED for a command or sensor it does not handle,
     * GWD_ERR_INVALID for bad params, another error when it failed. */
    int (*command)(void *instance, const gwd_command *command, gwd_command_reply *reply);

    /* Must be NULL: later revisions add callbacks here. */
    void *reserved[14];
} gwd_plugin;

typedef const gwd_plugin *(*gwd_plugin_entry_fn)(void);

/* printf-style convenience over host->log. Lines longer than 1 KiB are cut. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static inline void
gwd_logf(const gwd_host_api *host, const gwd_context *ctx, int level, const char *format, ...)
{
    char line[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(line, sizeof line, format, args);
    va_end(args);
    host->log(ctx, level, line);
}

#ifdef __cplusplus
}
#endif

#endif /* GATEWAYD_PLUGIN_H */
