#ifndef SWIFT_NETWORKMANAGER_CGLIBORACLE_H
#define SWIFT_NETWORKMANAGER_CGLIBORACLE_H
// GLib's D-Bus message parser and writer (GDBusMessage), an implementation independent of
// libdbus. Tests feed it the bytes our encoder produced and compare its printed GVariant with
// what they expect, and decode with our code the bytes it wrote. Test-only.
//
// Include flags come from pkg-config "glib-2.0", not "gio-2.0": GIO's headers live in the same
// include directory, and gio-2.0.pc pulls in "-pthread" (through gmodule-no-export-2.0), which
// SwiftPM rejects with "warning: prohibited flag(s): -pthread". The libraries are linked by
// the module map.
#include <gio/gio.h>
#include <stdint.h>
#include <string.h>

// Frees a string or blob returned by the functions below.
static inline void oracle_free(void *pointer) { g_free(pointer); }

// Parses a whole D-Bus message with g_dbus_message_new_from_blob and returns
// g_variant_print(body, TRUE), or "()" for a message without a body; *signature_out receives
// the message's signature header ("" if none). On failure returns NULL and sets *error_out.
// Every returned string is freed with oracle_free.
static inline char *oracle_print_body(const uint8_t *blob, size_t length, char **signature_out,
                                      char **error_out) {
    GError *error = NULL;
    *signature_out = NULL;
    *error_out = NULL;
    GDBusMessage *message = g_dbus_message_new_from_blob(
        (guchar *)blob, (gsize)length, G_DBUS_CAPABILITY_FLAGS_NONE, &error);
    if (message == NULL) {
        *error_out = g_strdup(error != NULL ? error->message : "unknown GLib error");
        g_clear_error(&error);
        return NULL;
    }
    const char *signature = g_dbus_message_get_signature(message);
    *signature_out = g_strdup(signature != NULL ? signature : "");
    GVariant *body = g_dbus_message_get_body(message);
    char *text = body != NULL ? g_variant_print(body, TRUE) : g_strdup("()");
    g_object_unref(message);
    return text;
}

// Parses `text` with g_variant_parse (it must be a tuple: the message body), builds a method
// call carrying it, and serialises it with g_dbus_message_to_blob in the requested byte order.
// Returns the bytes (length in *length_out), or NULL with *error_out set.
static inline uint8_t *oracle_blob_from_text(const char *text, int big_endian, size_t *length_out,
                                             char **error_out) {
    GError *error = NULL;
    *length_out = 0;
    *error_out = NULL;
    GVariant *body = g_variant_parse(NULL, text, NULL, NULL, &error);
    if (body == NULL) {
        *error_out = g_strdup_printf("g_variant_parse: %s", error->message);
        g_clear_error(&error);
        return NULL;
    }
    if (!g_variant_is_of_type(body, G_VARIANT_TYPE_TUPLE)) {
        *error_out = g_strdup_printf("body must be a tuple, got type %s", g_variant_get_type_string(body));
        g_variant_unref(body);
        return NULL;
    }
    GDBusMessage *message = g_dbus_message_new_method_call(
        "org.example.Oracle", "/org/example/Oracle", "org.example.Oracle", "Check");
    g_dbus_message_set_body(message, body);  // takes its own reference
    g_variant_unref(body);                   // g_variant_parse returned a non-floating one
    g_dbus_message_set_serial(message, 7);
    g_dbus_message_set_byte_order(message, big_endian ? G_DBUS_MESSAGE_BYTE_ORDER_BIG_ENDIAN
                                                      : G_DBUS_MESSAGE_BYTE_ORDER_LITTLE_ENDIAN);
    gsize size = 0;
    guchar *blob = g_dbus_message_to_blob(message, &size, G_DBUS_CAPABILITY_FLAGS_NONE, &error);
    g_object_unref(message);
    if (blob == NULL) {
        *error_out = g_strdup_printf("g_dbus_message_to_blob: %s", error->message);
        g_clear_error(&error);
        return NULL;
    }
    *length_out = (size_t)size;
    return (uint8_t *)blob;
}

#endif
