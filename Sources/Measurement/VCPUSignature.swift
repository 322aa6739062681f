/// The CPUID(1).EAX signature QEMU puts in a vCPU's RDX at reset, which ends up in the VMSA.
public enum VCPUSignature {
    /// Encodes family/model/stepping as CPUID Fn0000_0001_EAX does (AMD CPUID specification
    /// #25481): families above 0xF use the extended-family field.
    public static func make(family: Int, model: Int, stepping: Int) -> UInt32 {
        let baseFamily = family > 0xF ? 0xF : family
        let extendedFamily = family > 0xF ? (family - 0xF) & 0xFF : 0
        let value =
            (extendedFamily << 20) | (((model >> 4) & 0xF) << 16) | ((baseFamily & 0xF) << 8)
            | ((model & 0xF) << 4) | (stepping & 0xF)
        return UInt32(truncatingIfNeeded: value)
    }

    /// QEMU's named AMD models (target/i386/cpu.c builtin_x86_defs) as family/model/stepping.
    public static let namedModels: [String: (family: Int, model: Int, stepping: Int)] = [
        "EPYC": (23, 1, 2), "EPYC-v1": (23, 1, 2), "EPYC-v2": (23, 1, 2), "EPYC-IBPB": (23, 1, 2),
        "EPYC-v3": (23, 1, 2), "EPYC-v4": (23, 1, 2),
        "EPYC-Rome": (23, 49, 0), "EPYC-Rome-v1": (23, 49, 0), "EPYC-Rome-v2": (23, 49, 0),
        "EPYC-Rome-v3": (23, 49, 0),
        "EPYC-Milan": (25, 1, 1), "EPYC-Milan-v1": (25, 1, 1), "EPYC-Milan-v2": (25, 1, 1),
        "EPYC-Genoa": (25, 17, 0), "EPYC-Genoa-v1": (25, 17, 0),
        "EPYC-Turin": (26, 0, 0),
    ]

    /// The signature of a named QEMU CPU model, or nil for a name we do not know.
    public static func named(_ name: String) -> UInt32? {
        guard let fms = namedModels[name] else { return nil }
        return make(family: fms.family, model: fms.model, stepping: fms.stepping)
    }
}
