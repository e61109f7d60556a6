using System.Globalization;
using System.Xml;
using System.Xml.Linq;

namespace Veltrix.Cli.Trx;

/// <summary>Test results counted from TRX files.</summary>
public sealed record TrxCount(int Files, long Passed, long Failed, long Skipped, IReadOnlyList<string> Problems)
{
    /// <summary><c>N passed, N failed</c>, with <c>, N skipped</c> only when some were.</summary>
    public string Summary => Skipped > 0
        ? string.Create(CultureInfo.InvariantCulture, $"{Passed} passed, {Failed} failed, {Skipped} skipped")
        : string.Create(CultureInfo.InvariantCulture, $"{Passed} passed, {Failed} failed");
}

/// <summary>
/// Counts the outcome of every UnitTestResult in the TRX files of a folder, and checks each file's own
/// Counters element against what was counted in it, so a truncated or inconsistent file is noticed.
/// </summary>
public static class TrxCounter
{
    public static TrxCount CountDirectory(string directory)
    {
        var files = Directory.Exists(directory)
            ? Directory.GetFiles(directory, "*.trx", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList()
            : [];
        long passed = 0;
        long failed = 0;
        long skipped = 0;
        var problems = new List<string>();
        foreach (var file in files)
        {
            try
            {
                var one = CountDocument(XDocument.Load(file));
                passed += one.Passed;
                failed += one.Failed;
                skipped += one.Skipped;
                problems.AddRange(one.Problems.Select(p => $"{Path.GetFileName(file)}: {p}"));
            }
            catch (XmlException e)
            {
                problems.Add($"{Path.GetFileName(file)}: not readable XML ({e.Message})");
            }
        }
        return new TrxCount(files.Count, passed, failed, skipped, problems);
    }

    public static TrxCount CountDocument(XDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var root = document.Root;
        if (root is null || root.Name.LocalName != "TestRun")
        {
            return new TrxCount(1, 0, 0, 0, ["no TestRun element"]);
        }
        long passed = 0;
        long failed = 0;
        long skipped = 0;
        long other = 0;
        // Only the top-level results: data-driven tests nest their rows under InnerResults.
        var results = Child(root, "Results")?.Elements().Where(e => e.Name.LocalName == "UnitTestResult") ?? [];
        foreach (var result in results)
        {
            switch ((string?)result.Attribute("outcome"))
            {
                case "Passed":
                    passed++;
                    break;
                case "NotExecuted":
                    skipped++;
                    break;
                case "Failed" or "Error" or "Timeout" or "Aborted":
                    failed++;
                    break;
                default:
                    other++;
                    break;
            }
        }

        var problems = new List<string>();
        if (other > 0)
        {
            // Inconclusive, Pending and the like are not a pass: count them as failed so they are seen.
            problems.Add($"{other} result(s) with another outcome, counted as failed");
            failed += other;
        }
        var counters = Child(Child(root, "ResultSummary"), "Counters");
        if (counters is null)
        {
            problems.Add("no ResultSummary/Counters to cross-check");
        }
        else
        {
            var total = Number(counters, "total");
            var countedPassed = Number(counters, "passed");
            var countedFailed = Number(counters, "failed") + Number(counters, "error") + Number(counters, "timeout") + Number(counters, "aborted");
            if (countedPassed != passed || countedFailed != failed - other || total != passed + failed + skipped)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture,
                    $"Counters say total {total}, passed {countedPassed}, failed {countedFailed}; results say {passed + failed + skipped}, {passed}, {failed}"));
            }
        }
        return new TrxCount(1, passed, failed, skipped, problems);
    }

    private static XElement? Child(XElement? parent, string localName) =>
        parent?.Elements().FirstOrDefault(e => e.Name.LocalName == localName);

    private static long Number(XElement element, string attribute) =>
        long.TryParse((string?)element.Attribute(attribute), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;
}
