#ifndef SWIFT_NETWORKMANAGER_CGLIBORACLE_H
#define SWIFT_NETWORKMANAGER_CGLIBORACLE_H
// GLib's D-Bus message parser, an implementation independent of libdbus: tests feed it the
// bytes our encoder produced and compare its printed GVariant with what they expect.
#include <gio/gio.h>
#endif
