// profiles-floor: the floor of the 500-profile read (docs/benchmarks.md, item 3): a fresh C
// process that sends the calls NMClient.profiles() sends on a first read, in the same order,
// over one private libdbus connection to the system bus, and only counts the replies: no
// decoding beyond what libdbus does to receive a message, no threads. What is left is process
// start-up, the bus and NetworkManager serialising every profile.
//
//   profiles-floor             prints "profiles=N replies=M"
//   profiles-floor --window W  the same, with at most W calls on the wire at once
//
// Calls: Settings.ListConnections, then GetManagedObjects on /org/freedesktop and one
// GetSettings per profile, all sent before the first reply is read; with --window, the next
// call goes out as each reply comes in, as the library's DBusConnection.Options.callWindow
// does (item 7: with thousands of profiles, the bus refuses a connection more than
// max_replies_per_connection pending replies, 128 by default).
//
// Built by scripts/bench: cc -O2 profiles-floor.c $(pkg-config --cflags --libs dbus-1)
#include <dbus/dbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static DBusMessage *call(DBusConnection *c, DBusMessage *m) {
    DBusError error;
    dbus_error_init(&error);
    DBusMessage *reply = dbus_connection_send_with_reply_and_block(c, m, 25000, &error);
    if (!reply) {
        fprintf(stderr, "profiles-floor: %s\n", error.message);
        exit(1);
    }
    dbus_message_unref(m);
    return reply;
}

int main(int argc, char **argv) {
    long window = 0;  // 0: every call at once
    if (argc == 3 && strcmp(argv[1], "--window") == 0) {
        window = strtol(argv[2], NULL, 10);
    }
    if ((argc != 1 && argc != 3) || (argc == 3 && window < 1)) {
        fprintf(stderr, "usage: profiles-floor [--window CALLS]\n");
        return 2;
    }
    DBusError error;
    dbus_error_init(&error);
    DBusConnection *c = dbus_bus_get_private(DBUS_BUS_SYSTEM, &error);
    if (!c) {
        fprintf(stderr, "profiles-floor: %s\n", error.message);
        return 1;
    }
    dbus_connection_set_exit_on_disconnect(c, FALSE);

    DBusMessage *list = call(c, dbus_message_new_method_call(
        "org.freedesktop.NetworkManager", "/org/freedesktop/NetworkManager/Settings",
        "org.freedesktop.NetworkManager.Settings", "ListConnections"));
    char **paths = NULL;
    int count = 0;
    if (!dbus_message_get_args(list, &error, DBUS_TYPE_ARRAY, DBUS_TYPE_OBJECT_PATH, &paths, &count, DBUS_TYPE_INVALID)) {
        fprintf(stderr, "profiles-floor: ListConnections: %s\n", error.message);
        return 1;
    }

    // Call 0 is GetManagedObjects, call i > 0 the GetSettings of paths[i - 1].
    int total = count + 1, sent = 0, replies = 0;
    while (replies < total) {
        while (sent < total && (window == 0 || sent - replies < window)) {
            DBusMessage *m = sent == 0
                ? dbus_message_new_method_call("org.freedesktop.NetworkManager", "/org/freedesktop",
                                               "org.freedesktop.DBus.ObjectManager", "GetManagedObjects")
                : dbus_message_new_method_call("org.freedesktop.NetworkManager", paths[sent - 1],
                                               "org.freedesktop.NetworkManager.Settings.Connection", "GetSettings");
            dbus_connection_send(c, m, NULL);
            dbus_message_unref(m);
            sent++;
        }
        if (!dbus_connection_read_write(c, -1)) {
            fprintf(stderr, "profiles-floor: disconnected\n");
            return 1;
        }
        DBusMessage *reply;
        while ((reply = dbus_connection_pop_message(c)) != NULL) {
            int type = dbus_message_get_type(reply);
            if (type == DBUS_MESSAGE_TYPE_METHOD_RETURN) {
                replies++;
            } else if (type == DBUS_MESSAGE_TYPE_ERROR) {
                fprintf(stderr, "profiles-floor: error reply %s\n", dbus_message_get_error_name(reply));
                return 1;
            }
            dbus_message_unref(reply);
        }
    }
    printf("profiles=%d replies=%d\n", count, replies);
    dbus_free_string_array(paths);
    dbus_message_unref(list);
    dbus_connection_close(c);
    dbus_connection_unref(c);
    return 0;
}
