using Veltrix.Contracts.Internal;

namespace Veltrix.Contracts.Wire;

/// <summary>
/// Where the parts of a serialized <c>ApplyBatch</c> are: its partition, its spawns, and each event's
/// place in the batch with its stamp. Reused batch after batch by its one owner (a partition loop, a
/// replay): reading a batch allocates nothing but its spawns, which are rare.
/// </summary>
public sealed class BatchLayout
{
    private const uint PartitionTag = (1 << 3) | WireReader.Varint;
    private const uint SpawnTag = (3 << 3) | WireReader.LengthDelimited;
    private const uint EventTag = (4 << 3) | WireReader.LengthDelimited;
    private const uint StampTag = (5 << 3) | WireReader.Varint;
    private const uint PackedStampsTag = (5 << 3) | WireReader.LengthDelimited;

    private int[] _starts = new int[256];
    private int[] _lengths = new int[256];
    private long[] _stamps = new long[256];
    private int _stampCount;

    public uint Partition { get; private set; }

    /// <summary>Events in the batch.</summary>
    public int Count { get; private set; }

    /// <summary>Spawns, applied before the events.</summary>
    public List<Spawn> Spawns { get; } = [];

    /// <summary>Stamps read; a batch is whole only when there is one per event.</summary>
    public int StampCount => _stampCount;

    public bool StampsMatchEvents => _stampCount == Count;

    /// <summary>Event <paramref name="index"/>'s bytes within the batch it was read from.</summary>
    public ReadOnlySpan<byte> EventAt(ReadOnlySpan<byte> batch, int index) => batch.Slice(_starts[index], _lengths[index]);

    public long StampAt(int index) => _stamps[index];

    /// <summary>Reads <paramref name="batch"/>; throws <see cref="InvalidDataException"/> when it is not well-formed.</summary>
    public void Read(ReadOnlySpan<byte> batch)
    {
        Partition = 0;
        Count = 0;
        _stampCount = 0;
        Spawns.Clear();
        var reader = new WireReader(batch);
        while (!reader.AtEnd)
        {
            var tag = reader.ReadTag();
            switch (tag)
            {
                case PartitionTag:
                    Partition = reader.ReadVarint32();
                    break;
                case SpawnTag:
                    Spawns.Add(ReadSpawn(reader.ReadLengthDelimited()));
                    break;
                case EventTag:
                    var body = reader.ReadLengthDelimited();
                    AddEvent(reader.Position - body.Length, body.Length);
                    break;
                case StampTag:
                    AddStamp((long)reader.ReadVarint64());
                    break;
                case PackedStampsTag:
                    var packed = new WireReader(reader.ReadLengthDelimited());
                    while (!packed.AtEnd)
                    {
                        AddStamp((long)packed.ReadVarint64());
                    }
                    break;
                default:
                    reader.Skip(tag);
                    break;
            }
        }
    }

    private static Spawn ReadSpawn(ReadOnlySpan<byte> body)
    {
        try
        {
            return Spawn.Parser.ParseFrom(body);
        }
        catch (Google.Protobuf.InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException("malformed protobuf: a spawn cannot be read", ex);
        }
    }

    private void AddEvent(int start, int length)
    {
        if (Count == _starts.Length)
        {
            Array.Resize(ref _starts, Count * 2);
            Array.Resize(ref _lengths, Count * 2);
        }
        _starts[Count] = start;
        _lengths[Count] = length;
        Count++;
    }

    private void AddStamp(long stamp)
    {
        if (_stampCount == _stamps.Length)
        {
            Array.Resize(ref _stamps, _stampCount * 2);
        }
        _stamps[_stampCount++] = stamp;
    }
}
