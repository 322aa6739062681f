import Foundation
import HostRunner

#if canImport(FoundationXML)
import FoundationXML
#endif

/// JUnit XML as CI systems ingest it, valid against the Jenkins xunit plugin's junit-10.xsd
/// (jenkinsci/xunit-plugin, src/main/resources/.../xsd/junit-10.xsd): <testsuites> carries
/// only name, tests, failures, errors and time; one <testsuite> per interface with
/// timestamp, hostname and <properties> (tool version, kernel, probe facts, transport); one
/// <testcase> per scenario (name = scenario, classname = interface, so a case keeps its
/// identity across hosts and transports); <failure>/<error> whose text explains the case,
/// <skipped> with the reason, and <system-out> with the host's event log and the guest's log.
public enum JUnitReporter {
    public static func xml(_ report: SuiteReport) -> String {
        let root = XMLElement(name: "testsuites")
        let suites = ConversionPlatformOrder.interfaces(of: report.results).map { interface in
            testsuite(interface, report.results.filter { $0.interface == interface }, report)
        }
        let total = suites.reduce(0) { $0 + $1.time }
        set(
            root,
            [
                ("name", "enlighten conformance"), ("tests", String(report.results.count)),
                ("failures", String(report.summary.failed)), ("errors", String(report.summary.errors)), ("time", seconds(total)),
            ])
        for suite in suites { root.addChild(suite.element) }
        let document = XMLDocument(rootElement: root)
        document.version = "1.0"
        document.characterEncoding = "UTF-8"
        return document.xmlString(options: [.nodePrettyPrint]) + "\n"
    }

    private static func testsuite(_ interface: ConversionPlatform, _ cases: [CaseResult], _ report: SuiteReport) -> (element: XMLElement, time: Double) {
        let element = XMLElement(name: "testsuite")
        let time = cases.reduce(0) { $0 + $1.seconds }
        let count = { (statuses: Set<CaseResult.Status>) in String(cases.filter { statuses.contains($0.status) }.count) }
        set(
            element,
            [
                ("name", interface.rawValue), ("tests", String(cases.count)), ("failures", count([.fail])), ("errors", count([.error])),
                ("skipped", count([.skip, .notRun])), ("time", seconds(time)), ("timestamp", report.timestamp), ("hostname", report.hostname),
            ])
        let properties = XMLElement(name: "properties")
        var pairs = report.properties.sorted { $0.key < $1.key }
        // Every case of an interface goes through the same transport (the probe's, or the forced one).
        if let transport = cases.first(where: { $0.transport != .unavailable })?.transport { pairs.append(("transport", transport.rawValue)) }
        for (name, value) in pairs {
            let property = XMLElement(name: "property")
            set(property, [("name", name), ("value", value)])
            properties.addChild(property)
        }
        element.addChild(properties)
        for result in cases { element.addChild(testcase(result)) }
        return (element, time)
    }

    private static func testcase(_ result: CaseResult) -> XMLElement {
        let element = XMLElement(name: "testcase")
        set(element, [("name", result.scenario), ("classname", result.interface.rawValue), ("time", seconds(result.seconds))])
        let reason = result.reason ?? result.status.rawValue
        switch result.status {
        case .pass:
            break
        case .fail:
            element.addChild(detail("failure", message: reason, type: "expectation", text: result.explanation))
        case .error:
            element.addChild(detail("error", message: reason, type: "setup", text: result.explanation))
        case .skip, .notRun:
            element.addChild(detail("skipped", message: reason, type: nil, text: nil))
        }
        if !result.events.isEmpty || !result.logTail.isEmpty {
            let out = (["host events:"] + result.events + ["guest log (tail):"] + result.logTail).joined(separator: "\n")
            element.addChild(XMLElement(name: "system-out", stringValue: clean(out)))
        }
        return element
    }

    private static func detail(_ name: String, message: String, type: String?, text: String?) -> XMLElement {
        let element = XMLElement(name: name)
        set(element, [("message", message)] + (type.map { [("type", $0)] } ?? []))
        if let text { element.stringValue = clean(text) }
        return element
    }

    private static func set(_ element: XMLElement, _ attributes: [(String, String)]) {
        for (name, value) in attributes {
            guard let attribute = XMLNode.attribute(withName: name, stringValue: clean(value)) as? XMLNode else { continue }
            element.addAttribute(attribute)
        }
    }

    /// XML 1.0 cannot carry most control characters even escaped; a guest log may hold them.
    static func clean(_ text: String) -> String {
        String(
            String.UnicodeScalarView(
                text.unicodeScalars.map { scalar in
                    scalar.value < 0x20 && scalar != "\n" && scalar != "\t" ? "?" : scalar
                }))
    }

    private static func seconds(_ value: Double) -> String { String(format: "%.3f", value) }
}

/// Reports list interfaces in ConversionPlatform's order, whatever order cases finished in.
enum ConversionPlatformOrder {
    static func interfaces(of results: [CaseResult]) -> [ConversionPlatform] {
        ConversionPlatform.allCases.filter { interface in results.contains { $0.interface == interface } }
    }
}
