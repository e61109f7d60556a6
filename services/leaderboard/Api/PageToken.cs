using System.Buffers.Binary;
using System.Buffers.Text;

namespace Veltrix.Leaderboard;

/// <summary>
/// Top's page token: an offset into the board, tagged with a format byte and base64url-encoded so
/// clients treat it as opaque and a later format can be told apart.
/// </summary>
internal static class PageToken
{
    private const byte Format = 1;
    private const int Length = 5;

    public static string Encode(int offset)
    {
        Span<byte> bytes = stackalloc byte[Length];
        bytes[0] = Format;
        BinaryPrimitives.WriteInt32LittleEndian(bytes[1..], offset);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>An empty token is the first page.</summary>
    public static bool TryDecode(string token, out int offset)
    {
        offset = 0;
        if (token.Length == 0)
        {
            return true;
        }
        Span<byte> bytes = stackalloc byte[8];
        if (token.Length > 8 || !Base64Url.TryDecodeFromChars(token, bytes, out var written) || written != Length
            || bytes[0] != Format)
        {
            return false;
        }
        offset = BinaryPrimitives.ReadInt32LittleEndian(bytes[1..]);
        return offset >= 0;
    }
}
