namespace Veltrix.SpawnTimer.Scheduling;

/// <summary>
/// An id of up to <see cref="MaxLength"/> characters of [A-Za-z0-9_-] held in two words instead of a string:
/// those are exactly 64 characters, six bits each, ten to a word. A pending spawn keeps its treasure id this way,
/// so a million pending spawns are not a million strings for the GC to trace and copy.
/// </summary>
internal readonly record struct ShortId(ulong Low, ulong High, int Length)
{
    public const int MaxLength = 20;
    private const int PerWord = 10;
    private const int Bits = 6;
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

    /// <summary>Packs <paramref name="id"/>; false when it is longer than <see cref="MaxLength"/> or has another character.</summary>
    public static bool TryPack(ReadOnlySpan<char> id, out ShortId packed)
    {
        packed = default;
        if (id.Length is 0 or > MaxLength)
        {
            return false;
        }
        ulong low = 0, high = 0;
        for (var i = 0; i < id.Length; i++)
        {
            var code = CodeOf(id[i]);
            if (code < 0)
            {
                return false;
            }
            if (i < PerWord)
            {
                low |= (ulong)code << (i * Bits);
            }
            else
            {
                high |= (ulong)code << ((i - PerWord) * Bits);
            }
        }
        packed = new ShortId(low, high, id.Length);
        return true;
    }

    public override string ToString() =>
        string.Create(Length, this, static (chars, id) =>
        {
            for (var i = 0; i < chars.Length; i++)
            {
                var word = i < PerWord ? id.Low : id.High;
                chars[i] = Alphabet[(int)((word >> (i % PerWord * Bits)) & 0x3F)];
            }
        });

    private static int CodeOf(char c) => c switch
    {
        >= 'A' and <= 'Z' => c - 'A',
        >= 'a' and <= 'z' => c - 'a' + 26,
        >= '0' and <= '9' => c - '0' + 52,
        '_' => 62,
        '-' => 63,
        _ => -1,
    };
}
