import XCTest

@testable import HostRunner

/// The page SNP's first validation shows must read, byte for byte, as the ciphertext a C=0
/// read of zeroed memory at the same address returns (the two are computed apart: a qword at
/// a time, and per byte).
final class MemoryEncryptionTests: XCTestCase {
    func testGarbleIsTheCiphertextOfZeroAtEveryAddress() {
        let encryption = MemoryEncryption()
        for address: UInt64 in [0x40_0000, 0x1000, 0xFFFF_FFFF_FFFF_F000] {
            var page = [UInt8](repeating: 0, count: 4096)
            page.withUnsafeMutableBytes { encryption.garble($0, at: address) }
            for offset in 0..<page.count {
                XCTAssertEqual(page[offset], encryption.ciphertext(of: 0, at: address &+ UInt64(offset)), "at \(address) + \(offset)")
            }
            XCTAssertFalse(page.contains(0), "host-zeroed memory never decrypts to a zero byte here")
        }
    }
}
