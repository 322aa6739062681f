import ArgumentParser
import Foundation
import GuestPhysical
import Payload

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Assemble and link a stub into a guest image with its population plan.",
        discussion: """
            STUB is a scenario name (see GuestStubs/scenarios) or the path of your own stub: \
            a .asm file or a folder of them that defines a global `main` (docs/writing-stubs.md).

            Writes, per layout, NAME.elf and NAME.plan.json; the firmware layout also writes \
            NAME.bin (a flat 2 MiB ROM that QEMU boots with -bios) and carries a .firmware \
            suffix, so both layouts fit in one folder.

            Images come from the cache when nothing they are made of changed; an entry that \
            fails its digest is never used: it is rebuilt, with a warning on stderr. Temporary \
            files live in $TMPDIR/enlighten-run-XXXXXX, removed on exit, on an error and on \
            SIGINT, SIGTERM or SIGHUP (then the exit is 128+N).

            Examples:
              enlighten build hello
              enlighten build --all -o out
              enlighten build my-stub.asm --layout firmware --json
            """)

    enum LayoutChoice: String, ExpressibleByArgument, CaseIterable {
        case direct64, firmware, all
        var layouts: [Layout] {
            switch self {
            case .direct64: [.direct64]
            case .firmware: [.firmware]
            case .all: Layout.allCases
            }
        }
    }

    @Argument(help: "A scenario name or the path of a .asm file or folder.")
    var stub: String?

    @Flag(help: "Build every stub under GuestStubs/scenarios.")
    var all = false

    @Option(help: "The layout(s) to link: direct64, firmware or all.")
    var layout: LayoutChoice = .all

    @Option(name: [.customShort("o"), .long], help: "Where to write the outputs.")
    var output = "out"

    @Flag(help: "Print the plans as JSON instead of a summary.")
    var json = false

    func validate() throws {
        if all == (stub != nil) { throw ValidationError("give either a STUB or --all") }
    }

    func run() throws {
        let started = Date()
        let built: [(Image, ImageWriter.Written)]
        do {
            // Temporary files go with the command however it ends, a signal included.
            let scope = RunScope()
            defer { scope.close() }
            built = try buildImages(in: scope)
        } catch {
            throw fail(error, .inputError)
        }
        if json {
            try printJSON(built.map { BuiltImageReport(image: $0.0, written: $0.1) })
            return
        }
        for (image, written) in built {
            print("built \(image.name) (\(image.layout.rawValue)) → \(written.elf)\(written.rom.map { ", \($0)" } ?? "")")
            for range in image.plan.ranges {
                print(
                    "  \(range.range.description.padding(toLength: 28, withPad: " ", startingAt: 0)) \(range.kind.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(range.state.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)) \(range.name)"
                )
            }
            for site in image.sites { print("  request site \(site.name) at \(hex(site.address))") }
        }
        print(String(format: "%d image(s) in %.2f s", built.count, Date().timeIntervalSince(started)))
    }
}

extension Build {
    private func buildImages(in scope: RunScope) throws(BuildError) -> [(Image, ImageWriter.Written)] {
        let root = try ProjectRoot.locate()
        let builder = try ImageBuilder(toolchain: try Toolchain.locate(), root: root, runFolder: try scope.folder())
        var sources: [StubSource] = []
        if all {
            for name in StubSource.scenarioNames(root: root) { sources.append(try StubSource.resolve(name, root: root)) }
        } else {
            sources.append(try StubSource.resolve(stub ?? "", root: root))
        }
        return try builder.build(sources, layouts: layout.layouts, writer: ImageWriter(directory: output))
    }
}

struct BuiltImageReport: Encodable {
    let plan: PlanDocument
    let elf: String
    let planFile: String
    let rom: String?

    init(image: Image, written: ImageWriter.Written) {
        plan = PlanDocument(image)
        elf = written.elf
        planFile = written.plan
        rom = written.rom
    }
}
