import HostRunner

/// The instructions SEV-SNP and TDX intercept (IN/OUT, CPUID; HLT in a TD): what a raw one
/// meets, and the library's #VC/#VE handler that forwards them (GuestStubs/abi/vc_forward.asm,
/// ve_forward.asm). Expectations from the AMD APM, the TDX module's td_cpuid_exit and Linux's
/// handlers; each stub's header cites them.
extension Catalogue {
    static let rawCPUIDCaught = Scenario(
        name: "raw-cpuid-caught",
        proves:
            "with --catch-cpuid a raw CPUID is not executed but meets the platform's exception: #VC 0x72 at every CPUID on SNP, #VE with exit reason 10 and length 2 at a leaf the TDX module does not answer (0x40000000) while it answers leaf 0; the library's #VC/#VE handler forwards it and resumes with the host's answer",
        failureMeans:
            "a raw CPUID ran where the hardware intercepts it, met the wrong exception, error code or VE information, or the handler forwarded it wrongly",
        platforms: [.sevSNP, .tdx],
        configure: { options, _ in options.catchRawCPUID = true },
        expectations: { platform in
            [
                .guestPasses,
                .check("caught.count", equals: platform == .tdx ? 1 : 2),
                .check("caught.code", equals: platform == .tdx ? 10 : 0x72),
                .check("caught.leaf", equals: 0x4000_0000),
                .check("fwd.cpuid_hv.ebx", equals: 0x4B4D_564B),
                .conversions([]),
            ] + (platform == .tdx ? [.check("caught.length", equals: 2)] : [])
        })

    static let forwardedIntercepts = Scenario(
        name: "forwarded-intercepts",
        proves:
            "with the library's #VC/#VE handler installed, raw IN (imm8 and DX, 1/2/4 bytes), OUT and RDMSR give what they give on KVM: forwarded as GHCB IOIO / MSR NAE events, TDVMCALL<Instruction.IO> / <RDMSR> on SNP and TDX, executed on KVM",
        failureMeans:
            "the handler forwards an instruction wrongly, merges the answer into the wrong bits, or resumes at the wrong RIP; or a protocol path answers unlike the raw instruction",
        expectations: { _ in
            [
                .guestPasses,
                .check("fwd.in8", equals: 0x1122_3344_5566_77E7),
                .check("fwd.in16", equals: 0x1122_3344_5566_FFFF),
                .check("fwd.in32", equals: 0xFFFF_FFFF),
                // IA32_APIC_BASE of the boot vCPU: base 0xFEE00000, enable, BSP (Intel SDM
                // vol. 3 §11.4.4), forwarded as a GHCB MSR event / TDVMCALL<RDMSR> on SNP/TDX.
                .check("fwd.rdmsr.eax", equals: 0xFEE0_0900),
                .check("fwd.rdmsr.edx", equals: 0),
                .value("forwarded.record", equals: 0x46_5744),
                .logLine("fwd console"),
                .conversions([]),
            ]
        })

    static let tdxForwardedHalt = Scenario(
        name: "tdx-forwarded-hlt",
        proves:
            "a raw HLT in a TD is not executed but meets #VE with exit reason 12, which the library's handler forwards as TDG.VP.VMCALL<Instruction.HLT> (interrupts blocked): the vCPU halts there, as KVM halts it",
        failureMeans: "a raw HLT halted the TD itself, met the wrong exception, or the handler did not forward it",
        platforms: [.tdx],
        expectations: { _ in
            [
                .check("hlt.platform", equals: 3),
                .custom("halted in TDVMCALL<Instruction.HLT>") { result in
                    let halted = result.events.contains { event in
                        if case .stopped(_, .halted(let at)) = event { at.hasPrefix("TDVMCALL<Instruction.HLT> with interrupts blocked") } else { false }
                    }
                    return halted ? nil : "no halt in TDVMCALL<Instruction.HLT> with interrupts blocked"
                },
            ]
        })
}
