namespace Veltrix.Leaderboard.Tests;

public sealed class FramePacerTests
{
    // Timestamps in milliseconds.
    private const long Second = 1_000;

    [Fact]
    public void TopAlwaysChanging_EveryFrameALittleLate_StillTenASecond()
    {
        var pacer = new FramePacer(10, Second, firstDueAt: 0);
        var sent = SendWhileChanging(pacer, lateness: _ => 7, until: 10 * Second);

        // Paced from the last frame instead, 107 ms apart, it would be 94.
        Assert.InRange(sent.Count, 100, 101);
    }

    [Fact]
    public void AnyLateness_NeverMoreThanMaxHzInOneSecond()
    {
        var random = new Random(3);
        var pacer = new FramePacer(10, Second, firstDueAt: 0);
        var sent = SendWhileChanging(pacer, lateness: _ => random.Next(0, 120), until: 60 * Second);

        for (var i = 10; i < sent.Count; i++)
        {
            Assert.True(sent[i] - sent[i - 10] >= Second, $"frames {i - 10} and {i} at {sent[i - 10]} and {sent[i]} ms");
        }
        // Paced from the last frame instead (160 ms apart on average), it would be about 375.
        Assert.True(sent.Count > 450, $"{sent.Count} frames in 60 s");
    }

    [Fact]
    public void AfterAQuietSpell_TheFirstChangeGoesAtOnce_AndTheNextAnIntervalLater()
    {
        var pacer = new FramePacer(10, Second, firstDueAt: 0);
        pacer.Sent(0);

        Assert.True(pacer.WaitFrom(5_000) <= 0);
        pacer.Sent(5_000);
        Assert.Equal(100, pacer.WaitFrom(5_000));
        Assert.Equal(60, pacer.WaitFrom(5_040));
    }

    // Sends a frame as soon as the pacer allows, each late by the given lateness; returns the send times.
    private static List<long> SendWhileChanging(FramePacer pacer, Func<long, long> lateness, long until)
    {
        var sent = new List<long>();
        long now = 0;
        while (now < until)
        {
            var wait = pacer.WaitFrom(now);
            if (wait > 0)
            {
                now += wait + lateness(now);
            }
            pacer.Sent(now);
            sent.Add(now);
        }
        return sent;
    }
}
