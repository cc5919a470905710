import Foundation

/// A python-dbusmock process on a ``PrivateBus``: a D-Bus peer whose methods, properties
/// and signals a test defines at run time through dbusmock's control interface
/// `org.freedesktop.DBus.Mock` (python-dbusmock 0.28).
///
/// Every call takes the object `path` to act on (default: the mock's main object); objects
/// added with ``addObject(path:interface:properties:methods:)`` carry the control
/// interface too.
public final class MockPeer: Sendable {
    /// The python interpreter with dbusmock (Debian's, not a pyenv one on PATH):
    /// `$NMTS_PYTHON` or `/usr/bin/python3`.
    static var python: String {
        ProcessInfo.processInfo.environment["NMTS_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/bin/python3"
    }

    static let mockInterface = "org.freedesktop.DBus.Mock"

    /// The well-known name the mock owns.
    public let busName: String
    /// Its main object path.
    public let path: String
    /// The main object's interface.
    public let interface: String
    /// The bus it is on.
    public let busAddress: String
    /// dbusmock's log of method calls and signals.
    public let logPath: String
    /// The mock process's stdout and stderr (python tracebacks land here).
    public let outputPath: String
    /// The mock's process id.
    public var pid: Int32 { process.pid }

    let process: ChildProcess

    init(
        busName: String, path: String, interface: String, busAddress: String, logPath: String,
        outputPath: String, process: ChildProcess
    ) {
        self.busName = busName
        self.path = path
        self.interface = interface
        self.busAddress = busAddress
        self.logPath = logPath
        self.outputPath = outputPath
        self.process = process
    }

    deinit { process.killAndReap() }

    /// Whether the mock process still runs.
    public var isRunning: Bool { process.isRunning }

    /// Kills the mock with SIGKILL (and reaps it): the peer vanishes, mid-call if a call is
    /// in flight; its name is released when the bus sees the socket close.
    public func kill() { process.killAndReap() }

    /// Ends the mock with SIGTERM (SIGKILL after 2 s).
    public func stop() { process.terminate() }

    // MARK: Methods

    /// Adds a method (`org.freedesktop.DBus.Mock.AddMethod`, sent with dbus-send).
    ///
    /// - Parameters:
    ///   - interface: the method's interface; `nil` means the object's main interface.
    ///   - code: Python run on each call: the arguments are in `args`, the reply is what it
    ///     assigns to `ret`; `raise dbus.exceptions.DBusException('text',
    ///     name='com.example.Error')` replies with an error; `time.sleep(5)` delays the reply.
    public func addMethod(
        interface: String? = nil, name: String, inSignature: String, outSignature: String, code: String,
        path: String? = nil
    ) throws {
        let dbusSend = try Command.locate("dbus-send", package: "dbus-bin")
        let output = try Command.run(
            dbusSend,
            [
                "--bus=\(busAddress)", "--print-reply", "--dest=\(busName)", path ?? self.path,
                Self.mockInterface + ".AddMethod",
                "string:\(interface ?? "")", "string:\(name)", "string:\(inSignature)",
                "string:\(outSignature)", "string:\(code)",
            ], timeout: 30)
        try output.check("dbusmock AddMethod \(name) failed")
    }

    /// Adds an object with properties and methods (`org.freedesktop.DBus.Mock.AddObject`).
    /// An ObjectManager mock does not announce it; emit `InterfacesAdded` if needed.
    public func addObject(
        path objectPath: String, interface: String, properties: [(String, MockValue)] = [],
        methods: [MockMethod] = []
    ) throws {
        let methodList = methods.map {
            "(\(Python.literal($0.name)), \(Python.literal($0.inSignature)), "
                + "\(Python.literal($0.outSignature)), \(Python.literal($0.code)))"
        }.joined(separator: ", ")
        try call(
            "AddObject",
            [
                Python.literal(objectPath), Python.literal(interface),
                MockValue.properties(properties).pythonExpression,
                "dbus.Array([\(methodList)], signature='(ssss)')",
            ], signature: "ssa{sv}a(ssss)", path: path)
    }

    /// Removes an object (`org.freedesktop.DBus.Mock.RemoveObject`).
    public func removeObject(path objectPath: String) throws {
        try call("RemoveObject", [Python.literal(objectPath)], signature: "s", path: path)
    }

    // MARK: Properties

    /// Adds a property (`AddProperty`); `interface` `nil` means the main interface.
    /// The mock then answers `org.freedesktop.DBus.Properties` Get, GetAll and Set for it.
    public func addProperty(interface: String? = nil, name: String, value: MockValue, path: String? = nil) throws {
        try call(
            "AddProperty", [Python.literal(interface ?? ""), Python.literal(name), value.pythonExpression],
            signature: "ssv", path: path)
    }

    /// Adds several properties (`AddProperties`).
    public func addProperties(interface: String? = nil, _ properties: [(String, MockValue)], path: String? = nil)
        throws
    {
        try call(
            "AddProperties", [Python.literal(interface ?? ""), MockValue.properties(properties).pythonExpression],
            signature: "sa{sv}", path: path)
    }

    /// Changes existing properties and emits one `PropertiesChanged` signal for them
    /// (`UpdateProperties`).
    public func updateProperties(
        interface: String? = nil, _ properties: [(String, MockValue)], path: String? = nil
    ) throws {
        try call(
            "UpdateProperties",
            [Python.literal(interface ?? ""), MockValue.properties(properties).pythonExpression],
            signature: "sa{sv}", path: path)
    }

    // MARK: Signals

    /// Emits a signal from `path` (`EmitSignal`); `arguments` must match `signature`.
    public func emitSignal(
        interface: String? = nil, name: String, signature: String, arguments: [MockValue], path: String? = nil
    ) throws {
        let list = arguments.map(\.pythonExpression).joined(separator: ", ")
        try call(
            "EmitSignal",
            [
                Python.literal(interface ?? ""), Python.literal(name), Python.literal(signature),
                "dbus.Array([\(list)], signature='v')",
            ], signature: "sssav", path: path)
    }

    /// Emits a signal to one destination only, a unicast signal (`EmitSignalDetailed`).
    public func emitSignal(
        interface: String? = nil, name: String, signature: String, arguments: [MockValue], destination: String,
        path: String? = nil
    ) throws {
        let list = arguments.map(\.pythonExpression).joined(separator: ", ")
        try call(
            "EmitSignalDetailed",
            [
                Python.literal(interface ?? ""), Python.literal(name), Python.literal(signature),
                "dbus.Array([\(list)], signature='v')",
                "dbus.Dictionary({'destination': dbus.String(\(Python.literal(destination)))}, signature='sv')",
            ], signature: "sssava{sv}", path: path)
    }

    // MARK: Call log

    /// The calls of `method` so far (`GetMethodCalls`), oldest first.
    public func methodCalls(_ method: String, path: String? = nil) throws -> [MockCall] {
        let json = try call("GetMethodCalls", [Python.literal(method)], signature: "s", path: path)
        guard let data = json.data(using: .utf8) else { return [] }
        do {
            return try JSONDecoder().decode([MockCall].self, from: data)
        } catch {
            throw TestSupportError(.commandFailed, "cannot decode GetMethodCalls reply: \(error)", stderr: json)
        }
    }

    /// Forgets the calls logged so far (`ClearCalls`).
    public func clearCalls(path: String? = nil) throws {
        try call("ClearCalls", [], signature: "", path: path)
    }

    /// Removes every added object, method and property (`Reset`).
    public func reset() throws {
        try call("Reset", [], signature: "", path: nil)
    }

    // MARK: Plumbing

    /// Calls `org.freedesktop.DBus.Mock.<method>` with dbus-python (dbus-send cannot build
    /// variants of containers); returns the reply converted to JSON.
    @discardableResult
    func call(_ method: String, _ arguments: [String], signature: String, path: String?) throws -> String {
        let callLine =
            "reply = obj.get_dbus_method(\(Python.literal(method)), \(Python.literal(Self.mockInterface)))("
            + arguments.map { $0 + ", " }.joined() + "signature=\(Python.literal(signature)))"
        let script = """
            import json, sys
            import dbus
            bus = dbus.bus.BusConnection(sys.argv[1])
            obj = bus.get_object(sys.argv[2], sys.argv[3], introspect=False)
            def plain(v):
                if isinstance(v, dbus.Boolean) or isinstance(v, bool): return bool(v)
                if isinstance(v, int): return int(v)
                if isinstance(v, float): return float(v)
                if isinstance(v, str): return str(v)
                if isinstance(v, (bytes, bytearray)): return list(v)
                if isinstance(v, dict): return {str(plain(k)): plain(x) for k, x in v.items()}
                if isinstance(v, (list, tuple)): return [plain(x) for x in v]
                return repr(v)
            \(callLine)
            if sys.argv[4] == 'GetMethodCalls':
                reply = [{'timestamp': int(r[0]), 'arguments': [json.dumps(plain(a)) for a in r[1]]} for r in reply]
            print(json.dumps(plain(reply)))

            """
        let python = try Command.locate(Self.python, package: "python3-dbusmock")
        let arguments = [busAddress, busName, path ?? self.path, method]
        let output = try Command.run(python, ["-c", script] + arguments, timeout: 30)
        guard output.status == 0 else {
            // The traceback's last line is the D-Bus error (name: message); the script
            // itself would drown it.
            let reason = output.stderr.trimmingTrailingNewlines().split(separator: "\n").last.map(String.init) ?? ""
            throw TestSupportError(
                .commandFailed, "dbusmock \(method) failed: \(reason)",
                command: [python, "-c", "<dbusmock control script: \(callLine)>"] + arguments,
                status: output.status, stderr: output.stderr)
        }
        return output.stdout.trimmingTrailingNewlines()
    }
}

/// A method for ``MockPeer/addObject(path:interface:properties:methods:)``: name,
/// signatures and the Python body (see ``MockPeer/addMethod(interface:name:inSignature:outSignature:code:path:)``).
public struct MockMethod: Sendable {
    public var name: String
    public var inSignature: String
    public var outSignature: String
    public var code: String

    public init(name: String, inSignature: String = "", outSignature: String = "", code: String = "") {
        self.name = name
        self.inSignature = inSignature
        self.outSignature = outSignature
        self.code = code
    }
}

/// One logged call of a mock method.
public struct MockCall: Sendable, Decodable, Equatable {
    /// Seconds since the epoch (dbusmock logs whole seconds).
    public var timestamp: Int
    /// Each argument as JSON text: `"eno1"`, `7`, `true`, `["a", "b"]`, `{"k": 1}`.
    public var arguments: [String]
}
