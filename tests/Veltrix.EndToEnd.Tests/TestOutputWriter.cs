using System.Text;
using Xunit.Abstractions;

namespace Veltrix.EndToEnd.Tests;

/// <summary>Lines written by the launcher's classes, into the test's output.</summary>
internal sealed class TestOutputWriter(ITestOutputHelper output) : TextWriter
{
    private readonly StringBuilder _line = new();
    private readonly Lock _gate = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_gate)
        {
            if (value == '\n')
            {
                Flush(_line.ToString());
                _line.Clear();
            }
            else if (value != '\r')
            {
                _line.Append(value);
            }
        }
    }

    public override void WriteLine(string? value)
    {
        lock (_gate)
        {
            _line.Append(value);
            Flush(_line.ToString());
            _line.Clear();
        }
    }

    private void Flush(string line)
    {
        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // Written after the test ended (a late continuation): nobody is listening any more.
        }
    }
}
