using System.Text;
using Veltrix.Domain;

namespace Veltrix.Contracts.Wire;

/// <summary>Ids read off the wire as bytes, for the dictionaries keyed by their strings.</summary>
public static class WireIds
{
    /// <summary>
    /// The characters of a valid id (<see cref="EventValidator.IsValidId(ReadOnlySpan{byte})"/>: ASCII, at most
    /// <see cref="EventValidator.MaxIdLength"/> bytes) in <paramref name="destination"/>; for lookups that allocate nothing.
    /// </summary>
    public static ReadOnlySpan<char> ToChars(ReadOnlySpan<byte> asciiId, Span<char> destination)
    {
        if (Ascii.ToUtf16(asciiId, destination, out var written) != System.Buffers.OperationStatus.Done)
        {
            throw new ArgumentException("the id is not a valid id", nameof(asciiId));
        }
        return destination[..written];
    }
}
