#ifndef SWIFT_NETWORKMANAGER_CDBUS_H
#define SWIFT_NETWORKMANAGER_CDBUS_H
// The one C header of the project. Only files under Sources/DBus/LibDBus import it.
#include <dbus/dbus.h>
#endif
