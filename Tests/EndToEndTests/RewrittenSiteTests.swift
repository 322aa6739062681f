import GuestPhysical
import HostRunner
import Payload
import XCTest

/// A guest that rewrites its own request sites is served what the CPU would execute there,
/// not what the image held at load (issue 18, "requests decoded from what the guest
/// executes"; Stubs/rewritten-site.asm says what each part does).
final class RewrittenSiteTests: XCTestCase {
    func testARewrittenSiteRunsTheGuestsInstructionOrTheRequestNowThere() throws {
        let result = try ConversionRun.run("rewritten-site.asm", platform: .kvm)
        XCTAssertTrue(result.passed, "\(result.failures)")

        // Parts 1 and 2: NOPs ran, RAX kept the hypercall number, page 0 never converted.
        XCTAssertEqual(result.check("nops_left_rax")?.actual, 12, "RAX as the guest left it (KVM_HC_MAP_GPA_RANGE)")
        XCTAssertEqual(result.check("stepped_nops_left_rax")?.actual, 12)
        XCTAssertEqual(result.check("db_after_site_nop")?.actual, 1, "the guest's own single-step trap after the NOP at the site")
        // Part 3: the swapped site served as what it holds; only page 1 converted.
        XCTAssertEqual(
            result.conversions.map { "\($0.record.range) \($0.record.direction)" }, ["[0x401000, 0x402000) shared"],
            "no conversion of page 0, whose hypercalls ran as NOPs")

        let rewritten = result.events.compactMap { event -> (armed: RequestInstruction, holds: [UInt8], answer: String)? in
            guard case .served(_, .kvm, .rewrittenSite(let armed, let holds, _), let answer) = event else { return nil }
            return (armed, holds, answer)
        }
        let ran = "the guest's instruction ran (one single step)"
        XCTAssertEqual(rewritten.map(\.answer), [ran, ran, "served as \(rewritten.first.map { $0.armed == .vmcall ? "vmmcall" : "vmcall" } ?? "?")", ran, ran])
        XCTAssertEqual(rewritten.first.map { Array($0.holds.prefix(3)) }, [0x90, 0x90, 0x90], "the site's three NOPs, as fetched")
        // Part 4: VMGEXIT on a KVM run does at both sites what it does where no breakpoint is
        // (#UD on this host's emulator; a hypercall KVM answers itself on SVM hardware); never
        // served, nothing converted (checked above).
        XCTAssertNotNil(result.check("vmgexit_at_vmcall_site_rax"))
        XCTAssertNotNil(result.check("vmgexit_ud"))
        XCTAssertEqual(rewritten.suffix(2).map { Array($0.holds) }, [[0xF3, 0x0F, 0x01, 0xD9], [0xF3, 0x0F, 0x01, 0xD9]])
    }
}
