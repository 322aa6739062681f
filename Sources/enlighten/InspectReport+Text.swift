import GuestPhysical
import Measurement

extension InspectReport {
    func printText() {
        // Plain Swift padding: a table of 2^20 sections prints 2^21 lines, and Foundation's
        // padding(toLength:) costs several times the hashing behind them.
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        let last = size == 0 ? baseAddress : baseAddress + UInt64(size) - 1
        print("\(image): \(size) bytes at \(base)..\(hex(last))")
        if let footer {
            print("footer table (\(footer.count) entries):")
            for entry in footer { print("  \(entry.guid)  \(pad(entry.name, 18)) \(entry.dataSize) data bytes at \(entry.dataOffset)") }
        } else {
            print("footer table: unreadable (see problems)")
        }
        if let resetEIP { print("  SEV-ES AP reset: CS base \(hex(resetEIP & 0xFFFF_0000)), IP \(hex(resetEIP & 0xFFFF))") }
        if let sevHashTable { print("  SEV hash table area: \(sevHashTable.gpa), \(hex(sevHashTable.size)) bytes") }
        if let sevSecret { print("  SEV secret area: \(sevSecret.gpa), \(hex(sevSecret.size)) bytes") }
        if let sevMetadata {
            print("SEV metadata (\(sevMetadata.count) sections\(sevMetadata.isEmpty ? ": present and empty" : "")):")
            for item in sevMetadata { print("  \(pad(item.gpa, 12)) \(pad(hex(item.size), 10)) \(item.type)") }
        } else {
            print("SEV metadata: \(absent.contains("SEV metadata") ? "absent (the footer table has no SEV metadata entry)" : "unreadable (see problems)")")
        }
        if let tdxMetadata {
            print("TDX metadata (\(tdxMetadata.count) sections\(tdxMetadata.isEmpty ? ": present and empty" : "")):")
            for item in tdxMetadata {
                print(
                    "  \(pad(item.type, 13)) memory \(pad(item.memoryAddress, 12)) \(pad(hex(item.memorySize), 10)) data \(pad(item.dataOffset, 10)) \(pad(hex(item.rawSize), 10)) \(item.attributes)"
                )
            }
        } else {
            print("TDX metadata: \(absent.contains("TDX metadata") ? "absent (the footer table has no TDX metadata entry)" : "unreadable (see problems)")")
        }
        print("population before the first instruction (\(vmmType)):")
        var index = 0
        while index < population.count {
            let step = population[index]
            // Runs of identical AP VMSAs print as one line.
            var run = 1
            while index + run < population.count, step.how == population[index + run].how, step.gpa == population[index + run].gpa,
                step.source.hasSuffix("(AP)"), population[index + run].source.hasSuffix("(AP)")
            { run += 1 }
            let source = run > 1 ? "VMSAs of \(run) APs, one page each" : step.source
            print(
                "  \(pad(step.platform.rawValue, 8)) \(pad(hex(step.gpa), 14)) \(pad(hex(step.size), 10)) \(pad(step.measurement, 19)) \(step.how) [\(source)]")
            index += run
        }
        print(
            "digests (\(vcpus) vCPU, signature \(vcpuSignature), SNP features \(guestFeatures), VMM \(vmmType)\(kernelHashes ? ", kernel hashes" : ""), MRTD \(mrtdOrder.rawValue)):"
        )
        for kind in [DigestKind.snp, .sev, .sevES, .mrtd] {
            let digest = digests[kind.rawValue]
            print("  \(pad(kind.rawValue, 9)) \(digest?.value ?? "not computed: " + (digest?.error ?? "unknown reason"))")
        }
        for problem in problems { print("problem: \(problem)") }
    }
}
