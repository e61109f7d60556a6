using System.Xml.Linq;
using Veltrix.Cli.Trx;

namespace Veltrix.EndToEnd.Tests;

public sealed class TrxCounterTests
{
    // The shape `dotnet test --logger trx` writes for xUnit (trimmed): a skipped test is NotExecuted and
    // is left out of Counters' executed and notExecuted alike.
    private const string Sample = """
        <?xml version="1.0" encoding="utf-8"?>
        <TestRun id="83ca6d22-9877-4be0-87eb-2baa96f7ce63" name="sample" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
          <Results>
            <UnitTestResult testName="T.Pass1" outcome="Passed" />
            <UnitTestResult testName="T.Fail1" outcome="Failed" />
            <UnitTestResult testName="T.PassTheory(x: 1)" outcome="Passed" />
            <UnitTestResult testName="T.PassTheory(x: 2)" outcome="Passed" />
            <UnitTestResult testName="T.Pass2" outcome="Passed" />
            <UnitTestResult testName="T.Skip1" outcome="NotExecuted" />
          </Results>
          <ResultSummary outcome="Failed">
            <Counters total="6" executed="5" passed="4" failed="1" error="0" timeout="0" aborted="0" inconclusive="0" passedButRunAborted="0" notRunnable="0" notExecuted="0" disconnected="0" warning="0" completed="0" inProgress="0" pending="0" />
          </ResultSummary>
        </TestRun>
        """;

    [Fact]
    public void CountDocument_XunitTrx_CountsEachOutcomeAndAgreesWithCounters()
    {
        var count = TrxCounter.CountDocument(XDocument.Parse(Sample));

        Assert.Equal((4L, 1L, 1L), (count.Passed, count.Failed, count.Skipped));
        Assert.Empty(count.Problems);
        Assert.Equal("4 passed, 1 failed, 1 skipped", count.Summary);
    }

    [Fact]
    public void Summary_NothingSkipped_LeavesSkippedOut() =>
        Assert.Equal("12 passed, 0 failed", new TrxCount(1, 12, 0, 0, []).Summary);

    [Fact]
    public void CountDocument_CountersDisagree_ReportsProblem()
    {
        var tampered = Sample.Replace("passed=\"4\"", "passed=\"9\"", StringComparison.Ordinal);

        var count = TrxCounter.CountDocument(XDocument.Parse(tampered));

        Assert.Single(count.Problems);
        Assert.Equal(4, count.Passed);
    }

    [Fact]
    public void CountDirectory_TwoFilesInSubfolders_AddsThemUp()
    {
        var dir = Directory.CreateTempSubdirectory("veltrix-trx-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "a.trx"), Sample);
            Directory.CreateDirectory(Path.Combine(dir.FullName, "sub"));
            File.WriteAllText(Path.Combine(dir.FullName, "sub", "b.trx"), Sample);

            var count = TrxCounter.CountDirectory(dir.FullName);

            Assert.Equal(2, count.Files);
            Assert.Equal("8 passed, 2 failed, 2 skipped", count.Summary);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void CountDirectory_NoTrx_CountsNoFiles()
    {
        var dir = Directory.CreateTempSubdirectory("veltrix-trx-");
        try
        {
            Assert.Equal(0, TrxCounter.CountDirectory(dir.FullName).Files);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
