/// SEV-SNP's memory encryption as far as a guest can observe it, for a runner whose private
/// and shared views are one set of plaintext bytes: what a C=0 read of a private page returns,
/// and what a page assigned to the guest at run time holds when the guest first validates it.
///
/// Hardware encrypts each 16-byte block with the guest's key, tweaked by its physical address
/// (AMD APM vol. 2 §7.10). So a C=0 read of private memory gets ciphertext, and a page that KVM
/// hands the guest after a conversion to private, zeroed through the host's mapping, decrypts
/// to noise through the guest's: a guest must not expect zeros there (only SNP_LAUNCH_UPDATE
/// pages hold what was loaded, and TDX's ACCEPT zeroes with the TD's key). Both are modelled
/// with one keyed mix of the address, a fresh key each run, never zero in any byte so that no
/// byte reads as the plaintext (or as zero) by chance.
struct MemoryEncryption: Sendable {
    private let key = UInt64.random(in: .min ... .max)

    /// The never-zero keystream byte at `address`.
    func keystream(at address: UInt64) -> UInt8 {
        var mix = key ^ (address & ~0xF) &* 0x9E37_79B9_7F4A_7C15
        mix = (mix ^ (mix >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mix = (mix ^ (mix >> 27)) &* 0x94D0_49BB_1331_11EB
        mix ^= mix >> 31
        let byte = UInt8(truncatingIfNeeded: mix >> (8 * (address & 7)) ^ (address & 8) << 2)
        return byte == 0 ? 0xA5 : byte
    }

    /// The ciphertext of `plaintext` at `address`.
    func ciphertext(of plaintext: UInt8, at address: UInt64) -> UInt8 { plaintext ^ keystream(at: address) }

    /// Fills a page with what host-zeroed memory decrypts to under the guest's key.
    func garble(_ bytes: UnsafeMutableRawBufferPointer, at address: UInt64) {
        for offset in 0..<bytes.count { bytes[offset] = keystream(at: address &+ UInt64(offset)) }
    }
}
