using Veltrix.Contracts.V1;

namespace Veltrix.Contracts.Internal;

public sealed partial class ApplyBatch
{
    /// <summary>Adds an event with the stamp ingest gave it.</summary>
    public void Add(Event e, long stampMs)
    {
        Events.Add(e);
        StampsMs.Add(stampMs);
    }

    /// <summary>True when every event has its stamp; a batch that is not is refused whole.</summary>
    public bool StampsMatchEvents => StampsMs.Count == Events.Count;
}
