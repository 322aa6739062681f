/// SEV-SNP's memory encryption as far as a guest can observe it, for a runner whose private
/// and shared views are one set of plaintext bytes: what a C=0 read of a private page returns,
/// and what a page assigned to the guest at run time holds when the guest first validates it.
///
/// Hardware encrypts each 16-byte block with the guest's key, tweaked by its physical address
/// (AMD APM vol. 2 §7.10). So a C=0 read of private memory gets ciphertext, and a page that KVM
/// hands the guest after a conversion to private, zeroed through the host's mapping, decrypts
/// to noise through the guest's: a guest must not expect zeros there (only SNP_LAUNCH_UPDATE
/// pages hold what was loaded, and TDX's ACCEPT zeroes with the TD's key). Both are modelled
/// with one keyed mix of the address, a fresh key each run, every byte odd so that no byte
/// reads as the plaintext (or as zero) by chance.
struct MemoryEncryption: Sendable {
    private let key = UInt64.random(in: .min ... .max)
    private static let oddBytes: UInt64 = 0x0101_0101_0101_0101

    /// The keystream qword of the 8-byte-aligned `address` (a splitmix64 finalizer of it).
    private func word(at address: UInt64) -> UInt64 {
        var mix = key ^ (address & ~7) &* 0x9E37_79B9_7F4A_7C15
        mix = (mix ^ (mix >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mix = (mix ^ (mix >> 27)) &* 0x94D0_49BB_1331_11EB
        return (mix ^ (mix >> 31)) | Self.oddBytes
    }

    /// The ciphertext of `plaintext` at `address`.
    func ciphertext(of plaintext: UInt8, at address: UInt64) -> UInt8 {
        plaintext ^ UInt8(truncatingIfNeeded: word(at: address) >> (8 * (address & 7)))
    }

    /// Fills a page (4 KiB aligned at `address`) with what host-zeroed memory decrypts to
    /// under the guest's key: one keystream qword per 8 bytes.
    func garble(_ page: UnsafeMutableRawBufferPointer, at address: UInt64) {
        for offset in stride(from: 0, to: page.count & ~7, by: 8) {
            // SAFETY: offset + 8 <= page.count (the stride stops at the last whole qword).
            page.storeBytes(of: word(at: address &+ UInt64(offset)), toByteOffset: offset, as: UInt64.self)
        }
    }
}
