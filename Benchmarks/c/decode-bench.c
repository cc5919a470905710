// decode-bench: the C baselines of the marshalling benchmark (docs/benchmarks.md, item 5), and
// the tool that captures the fixtures it decodes.
//
//   decode-bench capture ADDRESS DIR
//       calls NetworkManager at ADDRESS and writes the replies' exact wire bytes
//       (dbus_message_marshal): DIR/get-managed-objects.bin (GetManagedObjects on
//       /org/freedesktop) and DIR/get-settings.bin (every profile's GetSettings reply,
//       concatenated).
//   decode-bench libdbus FILE ITERATIONS      dbus_message_demarshal + a hand-written walk over
//                                             libdbus's iterators that reads every value
//   decode-bench libdbus-parse FILE ITERATIONS  dbus_message_demarshal alone (it validates the body)
//   decode-bench gvariant FILE ITERATIONS     g_dbus_message_new_from_blob + a walk over the GVariant
//
// FILE holds one or more whole messages back to back; one "decode" is all of them. Prints one
// JSON line: per-decode times (median, min, max in microseconds) and what was read (values,
// string bytes), which must agree between implementations.
//
// Built by scripts/bench: cc -O2 decode-bench.c $(pkg-config --cflags --libs dbus-1 gio-2.0)
#include <dbus/dbus.h>
#include <gio/gio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    uint64_t values;        // every value, containers included (dict entries are not values)
    uint64_t string_bytes;  // bytes of strings, object paths and signatures
    uint64_t checksum;      // sum of integer values, so that nothing is optimised away
} Tally;

// ---------------------------------------------------------------------------------------
// libdbus
// ---------------------------------------------------------------------------------------

static void walk_libdbus(DBusMessageIter *iter, Tally *t) {
    int type;
    while ((type = dbus_message_iter_get_arg_type(iter)) != DBUS_TYPE_INVALID) {
        if (type == DBUS_TYPE_DICT_ENTRY) {
            DBusMessageIter sub;
            dbus_message_iter_recurse(iter, &sub);
            walk_libdbus(&sub, t);
        } else {
            t->values++;
            switch (type) {
            case DBUS_TYPE_STRING:
            case DBUS_TYPE_OBJECT_PATH:
            case DBUS_TYPE_SIGNATURE: {
                const char *s;
                dbus_message_iter_get_basic(iter, &s);
                t->string_bytes += strlen(s);
                break;
            }
            case DBUS_TYPE_ARRAY:
                if (dbus_message_iter_get_element_type(iter) == DBUS_TYPE_BYTE) {
                    DBusMessageIter sub;
                    const unsigned char *bytes;
                    int n;
                    dbus_message_iter_recurse(iter, &sub);
                    dbus_message_iter_get_fixed_array(&sub, &bytes, &n);
                    t->values += (uint64_t)n;
                    for (int i = 0; i < n; i++) t->checksum += bytes[i];
                    break;
                }
                /* fall through */
            case DBUS_TYPE_STRUCT:
            case DBUS_TYPE_VARIANT: {
                DBusMessageIter sub;
                dbus_message_iter_recurse(iter, &sub);
                walk_libdbus(&sub, t);
                break;
            }
            case DBUS_TYPE_UNIX_FD:
                break;  // never in these fixtures (and reading one would dup a descriptor)
            default: {
                DBusBasicValue v;
                memset(&v, 0, sizeof v);
                dbus_message_iter_get_basic(iter, &v);
                t->checksum += v.u64;
                break;
            }
            }
        }
        dbus_message_iter_next(iter);
    }
}

// ---------------------------------------------------------------------------------------
// GLib: GDBusMessage's own parser builds a GVariant tree, walked here
// ---------------------------------------------------------------------------------------

static void walk_gvariant(GVariant *v, Tally *t) {
    const GVariantType *type = g_variant_get_type(v);
    if (g_variant_type_is_dict_entry(type)) {
        for (gsize i = 0; i < 2; i++) {
            GVariant *child = g_variant_get_child_value(v, i);
            walk_gvariant(child, t);
            g_variant_unref(child);
        }
        return;
    }
    t->values++;
    if (g_variant_type_is_container(type)) {
        if (g_variant_is_of_type(v, G_VARIANT_TYPE_BYTESTRING)) {
            gsize n;
            const guchar *bytes = g_variant_get_fixed_array(v, &n, 1);
            t->values += n;
            for (gsize i = 0; i < n; i++) t->checksum += bytes[i];
            return;
        }
        gsize n = g_variant_n_children(v);
        for (gsize i = 0; i < n; i++) {
            GVariant *child = g_variant_get_child_value(v, i);
            walk_gvariant(child, t);
            g_variant_unref(child);
        }
        return;
    }
    switch (g_variant_classify(v)) {
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE: {
        gsize length;
        g_variant_get_string(v, &length);
        t->string_bytes += length;
        break;
    }
    case G_VARIANT_CLASS_BOOLEAN: t->checksum += g_variant_get_boolean(v); break;
    case G_VARIANT_CLASS_BYTE: t->checksum += g_variant_get_byte(v); break;
    case G_VARIANT_CLASS_INT16: t->checksum += (uint64_t)(int64_t)g_variant_get_int16(v); break;
    case G_VARIANT_CLASS_UINT16: t->checksum += g_variant_get_uint16(v); break;
    case G_VARIANT_CLASS_INT32: t->checksum += (uint64_t)(int64_t)g_variant_get_int32(v); break;
    case G_VARIANT_CLASS_UINT32: t->checksum += g_variant_get_uint32(v); break;
    case G_VARIANT_CLASS_INT64: t->checksum += (uint64_t)g_variant_get_int64(v); break;
    case G_VARIANT_CLASS_UINT64: t->checksum += g_variant_get_uint64(v); break;
    default: break;
    }
}

// ---------------------------------------------------------------------------------------

typedef struct {
    char *data;
    size_t length;
    int count;        // messages
    size_t *offsets;  // of each message
    size_t *lengths;
} Fixture;

static Fixture load(const char *path) {
    Fixture f = {0};
    FILE *file = fopen(path, "rb");
    if (!file) { perror(path); exit(2); }
    fseek(file, 0, SEEK_END);
    f.length = (size_t)ftell(file);
    fseek(file, 0, SEEK_SET);
    f.data = malloc(f.length);
    if (fread(f.data, 1, f.length, file) != f.length) { perror(path); exit(2); }
    fclose(file);
    f.offsets = malloc(sizeof(size_t) * (f.length / 16 + 1));
    f.lengths = malloc(sizeof(size_t) * (f.length / 16 + 1));
    for (size_t at = 0; at < f.length;) {
        int needed = dbus_message_demarshal_bytes_needed(f.data + at, (int)(f.length - at));
        if (needed <= 0 || (size_t)needed > f.length - at) {
            fprintf(stderr, "%s: no whole message at offset %zu\n", path, at);
            exit(2);
        }
        f.offsets[f.count] = at;
        f.lengths[f.count] = (size_t)needed;
        f.count++;
        at += (size_t)needed;
    }
    return f;
}

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void decode_once(const char *mode, const Fixture *f, Tally *t) {
    for (int m = 0; m < f->count; m++) {
        const char *bytes = f->data + f->offsets[m];
        int length = (int)f->lengths[m];
        if (mode[0] == 'l') {
            DBusError error;
            dbus_error_init(&error);
            DBusMessage *message = dbus_message_demarshal(bytes, length, &error);
            if (!message) { fprintf(stderr, "demarshal: %s\n", error.message); exit(1); }
            if (strcmp(mode, "libdbus") == 0) {
                DBusMessageIter iter;
                if (dbus_message_iter_init(message, &iter)) walk_libdbus(&iter, t);
            }
            dbus_message_unref(message);
        } else {
            GError *error = NULL;
            GDBusMessage *message = g_dbus_message_new_from_blob((guchar *)bytes, (gsize)length,
                                                                 G_DBUS_CAPABILITY_FLAGS_NONE, &error);
            if (!message) { fprintf(stderr, "new_from_blob: %s\n", error->message); exit(1); }
            GVariant *body = g_dbus_message_get_body(message);
            if (body) {
                // The body is a tuple of the arguments; count the arguments, not the tuple.
                gsize n = g_variant_n_children(body);
                for (gsize i = 0; i < n; i++) {
                    GVariant *child = g_variant_get_child_value(body, i);
                    walk_gvariant(child, t);
                    g_variant_unref(child);
                }
            }
            g_object_unref(message);
        }
    }
}

static int run_decode(const char *mode, const char *path, int iterations) {
    Fixture f = load(path);
    Tally t = {0};
    decode_once(mode, &f, &t);  // warm up, and the tally of one decode
    Tally once = t;
    double *times = malloc(sizeof(double) * (size_t)iterations);
    for (int i = 0; i < iterations; i++) {
        Tally scratch = {0};
        double start = now_us();
        decode_once(mode, &f, &scratch);
        times[i] = now_us() - start;
        t.checksum += scratch.checksum;
    }
    qsort(times, (size_t)iterations, sizeof(double), compare);
    printf("{\"impl\": \"%s\", \"messages\": %d, \"bytes\": %zu, \"iterations\": %d, "
           "\"median_us\": %.2f, \"min_us\": %.2f, \"max_us\": %.2f, "
           "\"values\": %llu, \"string_bytes\": %llu, \"checksum\": %llu}\n",
           mode, f.count, f.length, iterations, times[iterations / 2], times[0], times[iterations - 1],
           (unsigned long long)once.values, (unsigned long long)once.string_bytes,
           (unsigned long long)(t.checksum & 0xffff));
    return 0;
}

// ---------------------------------------------------------------------------------------
// capture
// ---------------------------------------------------------------------------------------

static DBusMessage *call(DBusConnection *c, const char *path, const char *interface, const char *member) {
    DBusMessage *m = dbus_message_new_method_call("org.freedesktop.NetworkManager", path, interface, member);
    DBusError error;
    dbus_error_init(&error);
    DBusMessage *reply = dbus_connection_send_with_reply_and_block(c, m, 60000, &error);
    dbus_message_unref(m);
    if (!reply) { fprintf(stderr, "%s %s: %s\n", path, member, error.message); exit(1); }
    return reply;
}

static void write_message(FILE *out, DBusMessage *m) {
    char *bytes;
    int length;
    if (!dbus_message_marshal(m, &bytes, &length)) { fprintf(stderr, "marshal failed\n"); exit(1); }
    fwrite(bytes, 1, (size_t)length, out);
    dbus_free(bytes);
}

static int capture(const char *address, const char *dir) {
    DBusError error;
    dbus_error_init(&error);
    DBusConnection *c = dbus_connection_open_private(address, &error);
    if (!c || !dbus_bus_register(c, &error)) { fprintf(stderr, "%s: %s\n", address, error.message); return 1; }
    char path[4096];
    snprintf(path, sizeof path, "%s/get-managed-objects.bin", dir);
    FILE *gmo = fopen(path, "wb");
    snprintf(path, sizeof path, "%s/get-settings.bin", dir);
    FILE *gs = fopen(path, "wb");
    if (!gmo || !gs) { perror(dir); return 1; }
    DBusMessage *objects = call(c, "/org/freedesktop", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects");
    write_message(gmo, objects);
    // Every object that has the Settings.Connection interface: a{oa{sa{sv}}}.
    int profiles = 0;
    DBusMessageIter top, entries;
    dbus_message_iter_init(objects, &top);
    dbus_message_iter_recurse(&top, &entries);
    while (dbus_message_iter_get_arg_type(&entries) == DBUS_TYPE_DICT_ENTRY) {
        DBusMessageIter entry, interfaces;
        const char *object;
        dbus_message_iter_recurse(&entries, &entry);
        dbus_message_iter_get_basic(&entry, &object);
        dbus_message_iter_next(&entry);
        dbus_message_iter_recurse(&entry, &interfaces);
        while (dbus_message_iter_get_arg_type(&interfaces) == DBUS_TYPE_DICT_ENTRY) {
            DBusMessageIter pair;
            const char *name;
            dbus_message_iter_recurse(&interfaces, &pair);
            dbus_message_iter_get_basic(&pair, &name);
            if (strcmp(name, "org.freedesktop.NetworkManager.Settings.Connection") == 0) {
                DBusMessage *settings = call(c, object, name, "GetSettings");
                write_message(gs, settings);
                dbus_message_unref(settings);
                profiles++;
            }
            dbus_message_iter_next(&interfaces);
        }
        dbus_message_iter_next(&entries);
    }
    dbus_message_unref(objects);
    fclose(gmo);
    fclose(gs);
    dbus_connection_close(c);
    dbus_connection_unref(c);
    printf("{\"profiles\": %d}\n", profiles);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "capture") == 0) return capture(argv[2], argv[3]);
    if (argc == 4 && (strcmp(argv[1], "libdbus") == 0 || strcmp(argv[1], "libdbus-parse") == 0 ||
                      strcmp(argv[1], "gvariant") == 0))
        return run_decode(argv[1], argv[2], atoi(argv[3]));
    fprintf(stderr, "usage: decode-bench capture ADDRESS DIR | {libdbus|libdbus-parse|gvariant} FILE ITERATIONS\n");
    return 2;
}
