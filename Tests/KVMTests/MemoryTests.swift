import XCTest

@testable import KVM

/// Guest memory outside guest_memfd: MMIO exits for unbacked GPAs, and anonymous shared
/// backings with the plain memslot ioctl and madvise discard.
final class MemoryTests: XCTestCase {
    /// mov ax, 0x2000; mov ds, ax; mov byte [0], 0x5A; mov al, [1]; out 0xE9, al; hlt —
    /// GPA 0x20000 has no memslot, so the store and the load exit as MMIO; the load is
    /// answered through the data view.
    func testMMIOWriteAndReadAnswered() throws {
        try requireKVM()
        let guest = try RealModeGuest(code: [
            0xB8, 0x00, 0x20, 0x8E, 0xD8,
            0xC6, 0x06, 0x00, 0x00, 0x5A,
            0xA0, 0x01, 0x00,
            0xE6, 0xE9,
            0xF4,
        ])
        let store = try guest.run()
        guard case let .mmio(address, isWrite, length, data) = store else { return XCTFail("got \(store)") }
        XCTAssertEqual(address, 0x20000)
        XCTAssertTrue(isWrite)
        XCTAssertEqual(length, 1)
        XCTAssertEqual(data[0], 0x5A)

        let load = try guest.run()
        guard case let .mmio(readAddress, readIsWrite, readLength, readData) = load else { return XCTFail("got \(load)") }
        XCTAssertEqual(readAddress, 0x20001)
        XCTAssertFalse(readIsWrite)
        XCTAssertEqual(readLength, 1)
        readData.store(0x33, width: 1)
        XCTAssertEqual(try guest.expectOut(port: 0xE9), 0x33)
        try guest.expectHalt()
    }

    /// The same read-twice guest as the punch-hole test, on an anonymous shared mapping:
    /// MADV_REMOVE between the reads makes the guest see zero.
    func testAnonymousBackingDiscard() throws {
        try requireKVM()
        let guest = try RealModeGuest(
            code: [0xA0, 0x00, 0x20, 0xE6, 0xE9, 0xA0, 0x00, 0x20, 0xE6, 0xE9, 0xF4], backing: .anonymous)
        let mapping = try XCTUnwrap(guest.memory as? MemoryMapping)
        try mapping.write([0xC7], at: 0x2000)
        XCTAssertEqual(try guest.expectOut(port: 0xE9), 0xC7)
        try mapping.discard(offset: 0x2000, length: 0x1000, how: .remove)
        XCTAssertEqual(try mapping.read(at: 0x2000, count: 1), [0])
        XCTAssertEqual(try guest.expectOut(port: 0xE9), 0)
        try guest.expectHalt()
    }

    func testCopyHelpersCheckBounds() throws {
        let mapping = try MemoryMapping(size: 0x2000)
        try mapping.write([1, 2, 3], at: 0x1FFD)
        XCTAssertEqual(try mapping.read(at: 0x1FFD, count: 3), [1, 2, 3])
        XCTAssertThrowsError(try mapping.write([1, 2, 3, 4], at: 0x1FFD))
        XCTAssertThrowsError(try mapping.read(at: -1, count: 1))
        XCTAssertThrowsError(try mapping.read(at: 0, count: Int.max))
        XCTAssertThrowsError(try mapping.discard(offset: 0x1000, length: 0x2000))
        var buffer = [UInt8](repeating: 0, count: 2)
        try buffer.withUnsafeMutableBytes { try mapping.read(into: $0, at: 0x1FFE) }
        XCTAssertEqual(buffer, [2, 3])
    }
}
