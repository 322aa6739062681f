import Foundation

/// The machine's devices beyond the report channel, for firmware that expects a PC around it
/// (a firmware volume such as OVMF.fd): the q35 devices it touches before PEI
/// (`Q35Platform`, docs/devices.md). One per machine, shared by its vCPUs, so every access
/// holds the lock; our own images never reach it (they run without a board).
final class Board: @unchecked Sendable {
    private let lock = NSLock()
    private let devices: Q35Platform

    init(ramSize: UInt64, cpuCount: Int) {
        devices = Q35Platform(ramSize: ramSize, cpuCount: cpuCount)
    }

    /// Whether a device decodes `port` now.
    func claims(port: UInt16) -> Bool {
        lock.withLock { devices.ports.device(at: port) != nil }
    }

    /// Serves `count` items of `size` bytes at `port` in `data` (answered in place for IN).
    func port(_ port: UInt16, isWrite: Bool, size: Int, count: Int, data: some PortData) -> DeviceWriteEffect {
        lock.withLock {
            var effect = DeviceWriteEffect.none
            for item in 0..<max(count, 1) {
                if isWrite {
                    let result = devices.ports.write(port: port, size: size, value: UInt32(truncatingIfNeeded: data.load(width: size, item: item)))
                    if result != .none { effect = result }
                } else {
                    data.store(UInt64(devices.ports.read(port: port, size: size)), width: size, item: item)
                }
            }
            return effect
        }
    }

    /// Whether a device decodes the MMIO address `gpa`.
    func claims(mmio gpa: UInt64) -> Bool { devices.localAPIC.claims(address: gpa) }

    func mmioRead(gpa: UInt64, length: Int) -> UInt32 {
        lock.withLock { devices.localAPIC.read(address: gpa, size: length) }
    }

    func mmioWrite(gpa: UInt64, length: Int, value: UInt32) {
        lock.withLock { _ = devices.localAPIC.write(address: gpa, size: length, value: value) }
    }
}
