using System.Globalization;

namespace Veltrix.Cli;

/// <summary>A command's arguments: <c>--name value</c> or <c>--name=value</c> options and positional values.</summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, string> _options = new(StringComparer.Ordinal);
    private readonly List<string> _positional = [];
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    private CommandLine()
    {
    }

    public IReadOnlyList<string> Positional => _positional;

    /// <summary>Parses <paramref name="args"/>; every option must be one of <paramref name="known"/>.</summary>
    public static CommandLine Parse(IReadOnlyList<string> args, params string[] known) => Parse(args, [], known);

    /// <summary>
    /// Parses <paramref name="args"/>: <paramref name="flags"/> are options without a value (<c>--redis</c>),
    /// every other option must be one of <paramref name="known"/> and takes one.
    /// </summary>
    public static CommandLine Parse(IReadOnlyList<string> args, IReadOnlyCollection<string> flags, params string[] known)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(flags);
        var line = new CommandLine();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                line._positional.Add(arg);
                continue;
            }
            var name = arg[2..];
            if (flags.Contains(name))
            {
                line._flags.Add(name);
                continue;
            }
            string value;
            var equals = name.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                value = name[(equals + 1)..];
                name = name[..equals];
            }
            else if (i + 1 < args.Count)
            {
                value = args[++i];
            }
            else
            {
                throw new UsageException($"--{name} needs a value");
            }
            if (!known.Contains(name))
            {
                throw new UsageException($"unknown option --{name}");
            }
            line._options[name] = value;
        }
        return line;
    }

    public string? Text(string name) => _options.GetValueOrDefault(name);

    /// <summary>Whether the flag <c>--name</c> was given.</summary>
    public bool Flag(string name) => _flags.Contains(name);

    public int Int(string name, int fallback, int min, int max)
    {
        if (!_options.TryGetValue(name, out var text))
        {
            return fallback;
        }
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new UsageException($"--{name} must be a whole number from {min} to {max}, got '{text}'");
        }
        return value;
    }
}

internal sealed class UsageException(string message) : Exception(message);
