import Payload

/// The SNP secrets page as the PSP writes it into the SECRETS launch page (SEV-SNP firmware
/// ABI "Secrets Page Format"; Linux arch/x86/include/asm/sev.h `struct snp_secrets_page`):
/// u32 VERSION, u32 IMIEN (bit 0) + reserved, u32 FMS (CPUID(1).EAX of the platform), u32
/// reserved, u8 GOSVW[16], then VMPCK0..3 (32 bytes each) from 0x20. With no PSP here, the
/// runner plays its part: version 2, IMIEN 0, the vCPU's signature, and fresh random VMPCKs
/// (Linux refuses an all-zero VMPCK as erased).
public enum SNPSecretsPage {
    public static let version: UInt32 = 2
    public static let vmpckOffset = 0x20
    public static let vmpckLength = 32
    public static let pageSize = 4096

    public static func page(fms: UInt32) -> [UInt8] {
        var page = [UInt8](repeating: 0, count: pageSize)
        page.writeLE(version, at: 0)
        page.writeLE(fms, at: 8)
        var generator = SystemRandomNumberGenerator()
        for offset in vmpckOffset..<(vmpckOffset + 4 * vmpckLength) { page[offset] = UInt8.random(in: 1...255, using: &generator) }
        return page
    }
}
